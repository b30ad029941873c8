#!/usr/bin/env python3
"""Markdown table straight from the run cache DIR/runs/*.json of `isac extended experiment` (one row per
method × K_s × training fraction, mean ± population std over the cached seeds). For experiments that did not
finish (the CSVs are only written at the end), e.g. a time-limited rerun.

Usage: python3 bench/extended/runs_to_md.py DIR
"""
import glob
import json
import os
import statistics
import sys

KEYS = [("acc_pct", 1), ("range_mae_m", 2), ("azimuth_mae_deg", 2), ("planar_mae_m", 2), ("succ_1m_pct", 1)]


def main(d):
    groups = {}
    for p in sorted(glob.glob(os.path.join(d, "runs", "*.json"))):
        r = json.load(open(p))
        groups.setdefault((r["method"], r["ks"], r["trainFraction"]), []).append(r)
    print("| method | K_s | fraction | seeds | acc % | range MAE m | azimuth MAE ° | planar MAE m | Succ@1m % | s/run (wall) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (m, ks, f), rs in sorted(groups.items()):
        cells = []
        for k, dg in KEYS:
            v = [r["metrics"][k] for r in rs if k in r.get("metrics", {})]
            cells.append("–" if not v else (f"{v[0]:.{dg}f}" if len(v) == 1 else f"{statistics.mean(v):.{dg}f} ± {statistics.pstdev(v):.{dg}f}"))
        seeds = ",".join(str(r["seed"]) + (" (failed)" if r.get("failure") else "") for r in rs)
        secs = statistics.mean(r["seconds"] for r in rs)
        print(f"| {m} | {ks} | {f:g} | {seeds} | " + " | ".join(cells) + f" | {secs:.0f} |")


if __name__ == "__main__":
    main(sys.argv[1])
