#!/usr/bin/env python3
"""Markdown tables from an `isac multitarget tradeoff` CSV (docs/multitarget.md, single-target Figs. 5-6).

usage: summarize_tradeoff.py DIR/tradeoff.csv [--phi 0] [--etas 0.286,0.571,0.857,1]
Prints, per eta at the given phi: p_md / SER / angle RMSE / range RMSE (+ gross errors / single-target samples),
and per method the pooled metrics over all (eta, phi) points with eta in (0, 1) (sample-weighted).
"""
import csv, sys, math, argparse

ap = argparse.ArgumentParser()
ap.add_argument("csv")
ap.add_argument("--phi", type=float, default=0.0)
ap.add_argument("--etas", default="0.286,0.571,0.857,1")
a = ap.parse_args()
rows = list(csv.DictReader(open(a.csv)))
methods = list(dict.fromkeys(r["method"] for r in rows))
etas = [float(e) for e in a.etas.split(",")]
f = lambda r, k: float(r[k])

print("| η | " + " | ".join(methods) + " |")
print("|---|" + "---|" * len(methods))
for e in etas:
    cells = []
    for m in methods:
        rs = [r for r in rows if r["method"] == m and abs(f(r, "eta") - e) < 2e-3 and abs(f(r, "phi_deg") - a.phi) < 1e-6]
        if not rs:
            cells.append("—"); continue
        r = rs[0]
        cells.append("%.3f / %.4f / %.2f° / %.2f m (%d/%d)" % (f(r, "p_md"), f(r, "ser"), f(r, "angle_rmse_deg"), f(r, "range_rmse_m"),
                                                           int(f(r, "gross_errors")), int(f(r, "single_target_samples"))))
    print("| %.3f | " % e + " | ".join(cells) + " |")

print()
print("| method (pooled over 0 < η < 1, all φ) | p_md | p_fa | SER | angle RMSE | range RMSE | gross / single-target | fine angle RMSE | fine range RMSE |")
print("|---|---|---|---|---|---|---|---|---|")
for m in methods:
    rs = [r for r in rows if r["method"] == m and 0 < f(r, "eta") < 1]
    n = sum(f(r, "samples") for r in rs)
    st = sum(f(r, "single_target_samples") for r in rs)
    gross = sum(f(r, "gross_errors") for r in rs)
    w = lambda k: sum(f(r, k) * f(r, "samples") for r in rs) / n
    def pooled(k, cnt):
        tot = sum(f(r, k) ** 2 * c for r in rs for c in [cnt(r)] if c > 0 and not math.isnan(f(r, k)))
        den = sum(cnt(r) for r in rs if cnt(r) > 0 and not math.isnan(f(r, k)))
        return math.sqrt(tot / den) if den else float("nan")
    allc = lambda r: f(r, "single_target_samples")
    finec = lambda r: f(r, "single_target_samples") - f(r, "gross_errors")
    print("| %s | %.4f | %.4f | %.4f | %.3f° | %.2f m | %d / %d | %.3f° | %.3f m |" % (
        m, w("p_md"), w("p_fa"), w("ser"), pooled("angle_rmse_deg", allc), pooled("range_rmse_m", allc),
        gross, st, pooled("angle_rmse_fine_deg", finec), pooled("range_rmse_fine_m", finec)))
