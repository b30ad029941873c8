#!/usr/bin/env python3
"""Table for bench/scattering/vie_vehicle_pitch.sh: relative Frobenius error of every H_<disc>_<N>.npy in OUT against
the finest fcd ("default") run (a self-convergence reference: no exact series exists for a vehicle), plus voxels,
GMRES iterations and CPU-s from OUT/log.csv. Markdown on stdout.   usage: vie_vehicle_pitch.py OUT   (numpy only)"""
import csv, os, sys
import numpy as np

out = sys.argv[1]
rows = list(csv.DictReader(open(os.path.join(out, "log.csv"))))
fcd = sorted(int(r["n_per_lambda"]) for r in rows if r["disc"] == "default")
if not fcd:
    sys.exit("error: no fcd (default) run in " + out)
nref = fcd[-1]
ref = np.load(os.path.join(out, f"H_default_{nref}.npy")).astype(np.complex128)
print(f"reference: fcd at λ/{nref}\n")
print("| disc | voxels/λ | pitch mm | voxels | GMRES it (max) | CPU-s | ‖H − H_ref‖/‖H_ref‖ | ‖H‖/‖H_ref‖ |")
print("|---|---|---|---|---|---|---|---|")
for r in sorted(rows, key=lambda r: (r["disc"], int(r["n_per_lambda"]))):
    h = np.load(os.path.join(out, f"H_{r['disc']}_{r['n_per_lambda']}.npy")).astype(np.complex128)
    e = np.linalg.norm(h - ref) / np.linalg.norm(ref); q = np.linalg.norm(h) / np.linalg.norm(ref)
    name = "fcd" if r["disc"] == "default" else r["disc"]
    err = "(reference)" if (name == "fcd" and int(r["n_per_lambda"]) == nref) else f"{e:.3f}"
    print(f"| {name} | {r['n_per_lambda']} | {1e3 * float(r['pitch_m']):.2f} | {r['voxels']} | {r['max_gmres_it']} | "
          f"{r['cpu_s']} | {err} | {q:.3f} |")
