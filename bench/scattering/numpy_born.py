#!/usr/bin/env python3
"""NumPy reference of the Born step H_k = k0^2 dV B_k diag(chi_k) A_inc,k (eq. 14), on the exact inputs
exported by `isac scatter bench --export DIR` (voxel centres, materials, array, frequencies), timed and
checked against the Swift result stored in the same file.

The reported time is the median over the repeats (after one warm-up for `small`); CPU time (all
threads of this process) is reported too, since the benchmark machine is shared.

Usage: python3 bench/scattering/numpy_born.py DIR [--repeats 5] [--paper-repeats 2] [--block 1024]
"""
import argparse, json, os, sys, time
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dyadic_green import dyadic_coefficients

EPS0 = 8.8541878128e-12
C0 = 299792458.0


def green_rows(pts, ant, pol, k):
    """[A, V, 3]: pol^T G(r_v - r_a) for every antenna a and voxel v (closed-form dyadic, e^{jwt})."""
    alpha, beta, u = dyadic_coefficients(pts[None, :, :] - ant[:, None, :], k)
    up = u @ pol
    return alpha[..., None] * pol[None, None, :] + (beta * up)[..., None] * u


def born(z, block):
    pts, mat = z["points"], z["material"]
    eps, sigma = z["eps"], z["sigma"]
    tx, rx, freqs, h = z["tx"], z["rx"], z["freqs"], float(z["pitch"][0])
    pol = np.array([0.0, 0.0, 1.0])
    dv = h**3
    nr, nt, K = len(rx), len(tx), len(freqs)
    H = np.zeros((nr, nt, K), dtype=np.complex128)
    for kk, f in enumerate(freqs):
        k = 2 * np.pi * f / C0
        chi_m = eps - 1 - 1j * sigma / (2 * np.pi * f * EPS0)
        chi = chi_m[mat - 1]
        acc = np.zeros((nr, nt), dtype=np.complex128)
        for s in range(0, len(pts), block):
            p = pts[s:s + block]
            A = k * k * green_rows(p, tx, pol, k)            # [nt, b, 3]
            B = green_rows(p, rx, pol, k)                    # [nr, b, 3]
            A = A * chi[s:s + block][None, :, None]
            acc += B.reshape(nr, -1) @ A.reshape(nt, -1).T   # ZGEMM
        H[:, :, kk] = k * k * dv * acc
    return H


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--paper-repeats", type=int, default=2)
    ap.add_argument("--block", type=int, default=1024)
    a = ap.parse_args()
    out = []
    for name in ["small", "paper"]:
        try:
            z = dict(np.load(f"{a.dir}/born_{name}.npz"))
        except FileNotFoundError:
            continue
        if name == "small":
            born(z, a.block)  # warm-up
        wall, cpu = [], []
        for _ in range(a.repeats if name == "small" else a.paper_repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            H = born(z, a.block)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        s, c = float(np.median(wall)), float(np.median(cpu))
        Hs = z["H"]
        err = float(np.abs(H - Hs).max() / np.abs(Hs).max())
        out.append({"preset": name, "voxels": int(len(z["points"])), "numpySecondsPerSample": s,
                    "numpySamplesPerSecond": 1 / s, "numpyCpuSecondsPerSample": c, "swiftSecondsPerSample": float(z["seconds"][0]),
                    "maxRelDiffVsSwift": err})
    print(json.dumps({"numpy": np.__version__, "results": out}, indent=1))


if __name__ == "__main__":
    main()
