#!/usr/bin/env python3
"""Per-sample change between two `isac dataset generate` folders of the same preset/seed (e.g. two VIE
discretizations, or old vs new Born): ||H_b - H_a||_F / ||H_a||_F and ||H_b||_F / ||H_a||_F per sample, their median and
range, per class. Checks first that both folders hold the same samples (labels: class, instance, range, azimuth,
heading); exits non-zero otherwise.

usage: compare_datasets.py DIR_A DIR_B [--csv OUT.csv]      (A = reference, e.g. the old discretization)
needs numpy only.
"""
import json, os, sys
import numpy as np

def load(d):
    man = json.load(open(os.path.join(d, "manifest.json")))
    chunks = sorted(man["chunks"], key=lambda c: c["chunk"])
    hs, labels = [], []
    for c in chunks:
        hs.append(np.load(os.path.join(d, c["file"])))
        labels += c["labels"]
    return np.concatenate(hs), labels

def main():
    args = sys.argv[1:]
    csv = None
    if "--csv" in args:
        i = args.index("--csv"); csv = args[i + 1]; del args[i:i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    ha, la = load(args[0]); hb, lb = load(args[1])
    keys = ("cls", "instanceId", "rangeM", "azimuthDeg", "headingDeg")
    if ha.shape != hb.shape or [[l[k] for k in keys] for l in la] != [[l[k] for k in keys] for l in lb]:
        sys.exit("error: the two folders do not hold the same samples (shape or labels differ)")
    a = ha.reshape(len(ha), -1).astype(np.complex128); b = hb.reshape(len(hb), -1).astype(np.complex128)
    na = np.linalg.norm(a, axis=1); nb = np.linalg.norm(b, axis=1)
    rel = np.linalg.norm(b - a, axis=1) / na; ratio = nb / na
    rows = []
    for i, l in enumerate(la):
        rows.append((i, l["split"], l["cls"], l["instanceId"], l["voxelCount"], rel[i], ratio[i],
                     la[i].get("gmresIterations"), lb[i].get("gmresIterations")))
    if csv:
        with open(csv, "w") as f:
            f.write("index,split,class,instance,voxels,rel_change,norm_ratio,gmres_it_a,gmres_it_b\n")
            for r in rows: f.write(",".join(str(x) for x in r) + "\n")
    print(f"samples {len(rel)}  shape {ha.shape}")
    print(f"||H_b-H_a||/||H_a||  median {np.median(rel):.4f}  range {rel.min():.4f}-{rel.max():.4f}")
    print(f"||H_b||/||H_a||      median {np.median(ratio):.4f}  range {ratio.min():.4f}-{ratio.max():.4f}")
    for c in sorted(set(l["cls"] for l in la)):
        m = np.array([l["cls"] == c for l in la])
        print(f"  {c:10s} n={m.sum():3d}  rel median {np.median(rel[m]):.4f}  ratio median {np.median(ratio[m]):.4f}")

if __name__ == "__main__":
    main()
