#!/usr/bin/env python3
"""Markdown tables for docs/extended-target.md from the CSVs of `isac extended experiment … --out DIR`.

Usage: python3 bench/extended/csv_to_md.py DIR
Prints every table whose CSV exists in DIR (table2, table4_ablations, ks_sweep, train_fraction,
rate_tradeoff, table3_min_tones, robustness).
"""
import csv
import os
import sys

KEYS = ["acc_pct", "range_mae_m", "azimuth_mae_deg", "planar_mae_m", "succ_1m_pct"]
HEAD = ["acc %", "range MAE m", "azimuth MAE °", "planar MAE m", "Succ@1m %"]


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def fmt(mean, std, digits):
    if mean in ("", None):
        return "–"
    m = float(mean)
    if std in ("", None):
        return f"{m:.{digits}f}"
    return f"{m:.{digits}f} ± {float(std):.{digits}f}"


def metric_table(path):
    out = ["| method | " + " | ".join(HEAD) + " | seeds |", "|---" * (len(HEAD) + 2) + "|"]
    for r in rows(path):
        cells = [fmt(r[k + "_mean"], r[k + "_std"], 1 if k.endswith("pct") else 2) for k in KEYS]
        seeds = r.get("seeds", "")
        out.append(f"| {r['method']} | " + " | ".join(cells) + f" | {seeds if r[KEYS[0] + '_std'] != '' or r[KEYS[3] + '_std'] != '' else '–'} |")
    return "\n".join(out)


def sweep_table(path, key, label):
    rs = rows(path)
    out = [f"| method | {label} | acc % | planar MAE m | Succ@1m % |", "|---|---|---|---|---|"]
    for r in rs:
        out.append(f"| {r['method']} | {r[key]} | {fmt(r['acc_pct_mean'], r['acc_pct_std'], 1)} | "
                   f"{fmt(r['planar_mae_m_mean'], r['planar_mae_m_std'], 2)} | {fmt(r['succ_1m_pct_mean'], r['succ_1m_pct_std'], 1)} |")
    return "\n".join(out)


def plain(path):
    rs = rows(path)
    if not rs:
        return ""
    keys = list(rs[0].keys())
    out = ["| " + " | ".join(keys) + " |", "|---" * len(keys) + "|"]
    for r in rs:
        cells = []
        for k in keys:
            v = r[k]
            try:
                v = f"{float(v):.4g}"
            except ValueError:
                pass
            cells.append(v)
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def main():
    d = sys.argv[1]
    for name, f in [("table2.csv", metric_table), ("table4_ablations.csv", metric_table),
                    ("ks_sweep.csv", lambda p: sweep_table(p, "ks", "K_s")),
                    ("train_fraction.csv", lambda p: sweep_table(p, "fraction", "fraction")),
                    ("rate_tradeoff.csv", plain), ("table3_min_tones.csv", plain), ("robustness.csv", plain)]:
        p = os.path.join(d, name)
        if os.path.exists(p):
            print(f"### {name}\n\n{f(p)}\n")


if __name__ == "__main__":
    main()
