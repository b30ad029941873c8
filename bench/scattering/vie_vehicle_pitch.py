#!/usr/bin/env python3
"""Table for bench/scattering/vie_vehicle_pitch.sh: relative Frobenius error of every OUT/H_<disc>_<vox>_<N>.npy against
the finest weighted fcd ("default") run (else the finest fcd run) — a self-convergence reference, since no exact series
exists for a vehicle — plus voxels, boundary voxels, GMRES iterations and CPU-s from OUT/log.csv. Markdown on stdout.
usage: vie_vehicle_pitch.py OUT   (numpy only)"""
import csv, os, sys
import numpy as np

out = sys.argv[1]
rows = list(csv.DictReader(open(os.path.join(out, "log.csv"))))
def key(r): return (r["disc"], r["voxelization"], int(r["n_per_lambda"]))
cands = [r for r in rows if r["disc"] == "default" and r["voxelization"] == "weighted"] or [r for r in rows if r["disc"] == "default"]
if not cands:
    sys.exit("error: no fcd (default) run in " + out)
refrow = max(cands, key=lambda r: int(r["n_per_lambda"]))
path = lambda r: os.path.join(out, f"H_{r['disc']}_{r['voxelization']}_{r['n_per_lambda']}.npy")
ref = np.load(path(refrow)).astype(np.complex128)
print(f"reference: {refrow['voxelization']} fcd at λ/{refrow['n_per_lambda']}; feature pitch {1e3 * float(refrow['feature_m']):.2f} mm\n")
print("| voxelization | disc | voxels/λ | pitch mm | voxels | boundary | GMRES it (max) | CPU-s | ‖H − H_ref‖/‖H_ref‖ | ‖H‖/‖H_ref‖ |")
print("|---|---|---|---|---|---|---|---|---|---|")
for r in sorted(rows, key=lambda r: (r["voxelization"], r["disc"], int(r["n_per_lambda"]))):
    h = np.load(path(r)).astype(np.complex128)
    e = np.linalg.norm(h - ref) / np.linalg.norm(ref); q = np.linalg.norm(h) / np.linalg.norm(ref)
    err = "(reference)" if r is refrow else f"{e:.3f}"
    name = "fcd" if r["disc"] == "default" else r["disc"]
    print(f"| {r['voxelization']} | {name} | {r['n_per_lambda']} | {1e3 * float(r['pitch_m']):.2f} | {r['voxels']} | "
          f"{r['boundary_voxels']} | {r['max_gmres_it']} | {r['cpu_s']} | {err} | {q:.3f} |")
