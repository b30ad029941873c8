#!/usr/bin/env python3
"""Summary of a (partial or sharded) `isac dataset generate --preset paper --solver po` folder (issue 15).

Reads every finished chunk (chunks/chunk-NNNNNN.{npy,json}), checks the channels are finite, fits
log10 ||H||_F = a + s log10 R per class (R = label rangeM), and writes a CSV of per-sample
(index, class, range, heading, ||H||_F) plus a small SVG scatter plot of ||H||_F vs R (log-log).
Usage: summarize_paper_dataset.py DATASET_DIR OUT_CSV OUT_SVG
"""
import glob, json, math, os, sys
import numpy as np

d, out_csv, out_svg = sys.argv[1:4]
rows = []
for side in sorted(glob.glob(os.path.join(d, "chunks", "chunk-*.json"))):
    rec = json.load(open(side))
    H = np.load(os.path.join(d, rec["file"]))
    assert H.shape[0] == rec["count"], side
    for lab, h in zip(rec["labels"], H):
        rows.append((lab["index"], lab["cls"], lab["rangeM"], lab["headingDeg"], float(np.linalg.norm(h)),
                     bool(np.isfinite(h).all()), lab["split"]))
rows.sort()
with open(out_csv, "w") as f:
    f.write("index,class,split,range_m,heading_deg,H_fro,finite\n")
    for r in rows:
        f.write(f"{r[0]},{r[1]},{r[6]},{r[2]:.4f},{r[3]:.2f},{r[4]:.6g},{int(r[5])}\n")
print(f"samples {len(rows)}, finite {sum(r[5] for r in rows)}, chunks {len(glob.glob(os.path.join(d, 'chunks', 'chunk-*.json')))}")
fits = {}
for cls in sorted({r[1] for r in rows}):
    R = np.array([r[2] for r in rows if r[1] == cls]); N = np.array([r[4] for r in rows if r[1] == cls])
    s, a = np.polyfit(np.log10(R), np.log10(N), 1)
    fits[cls] = (s, a)
    print(f"{cls}: n={len(R)}, R {R.min():.1f}-{R.max():.1f} m, slope of log||H||_F vs log R = {s:.2f}")
# SVG log-log scatter
W, Hh, m = 520, 360, 50
allR = [r[2] for r in rows]; allN = [r[4] for r in rows]
x0, x1 = math.log10(min(allR)) - 0.05, math.log10(max(allR)) + 0.05
y0, y1 = math.log10(min(allN)) - 0.2, math.log10(max(allN)) + 0.2
X = lambda v: m + (math.log10(v) - x0) / (x1 - x0) * (W - 2 * m)
Y = lambda v: Hh - m - (math.log10(v) - y0) / (y1 - y0) * (Hh - 2 * m)
col = {"car": "#1f77b4", "motorbike": "#d62728"}
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{Hh}" font-family="sans-serif" font-size="11">',
       f'<rect x="{m}" y="{m}" width="{W-2*m}" height="{Hh-2*m}" fill="none" stroke="#444"/>',
       f'<text x="{W/2}" y="{Hh-12}" text-anchor="middle">range R (m, log)</text>',
       f'<text x="14" y="{Hh/2}" transform="rotate(-90 14 {Hh/2})" text-anchor="middle">‖H‖_F (log)</text>',
       f'<text x="{W/2}" y="20" text-anchor="middle">paper preset, po: ‖H‖_F vs range, {len(rows)} samples</text>']
for t in [5, 10, 20, 50]:
    if x0 <= math.log10(t) <= x1:
        svg.append(f'<text x="{X(t):.1f}" y="{Hh-m+14}" text-anchor="middle">{t}</text>')
for e in range(math.ceil(y0), math.floor(y1) + 1):
    svg.append(f'<text x="{m-4}" y="{Y(10**e)+4:.1f}" text-anchor="end">1e{e}</text>')
for r in rows:
    svg.append(f'<circle cx="{X(r[2]):.1f}" cy="{Y(r[4]):.1f}" r="2.2" fill="{col.get(r[1], "#555")}" fill-opacity="0.7"/>')
ly = m + 14
for cls, (s, a) in fits.items():
    Rs = [r[2] for r in rows if r[1] == cls]
    ra, rb = min(Rs), max(Rs)
    svg.append(f'<line x1="{X(ra):.1f}" y1="{Y(10**(a + s*math.log10(ra))):.1f}" x2="{X(rb):.1f}" y2="{Y(10**(a + s*math.log10(rb))):.1f}" stroke="{col.get(cls, "#555")}"/>')
    svg.append(f'<text x="{W-m-6}" y="{ly}" text-anchor="end" fill="{col.get(cls, "#555")}">{cls}: slope {s:.2f}</text>'); ly += 14
# reference slopes −1 and −2 through the median point
mr, mn = float(np.median(allR)), float(np.median(allN))
for s, dash in [(-1, "4,3"), (-2, "1,3")]:
    ra, rb = min(allR), max(allR)
    svg.append(f'<line x1="{X(ra):.1f}" y1="{Y(mn*(ra/mr)**s):.1f}" x2="{X(rb):.1f}" y2="{Y(mn*(rb/mr)**s):.1f}" stroke="#888" stroke-dasharray="{dash}"/>')
svg.append(f'<text x="{W-m-6}" y="{ly}" text-anchor="end" fill="#888">dashed: R⁻¹, dotted: R⁻²</text>')
svg.append('</svg>')
open(out_svg, "w").write("\n".join(svg))
