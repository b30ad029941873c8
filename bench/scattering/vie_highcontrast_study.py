#!/usr/bin/env python3
"""Study (not a benchmark): why Jacobi-preconditioned GMRES needs ever more iterations on metal-like voxels, and what
bounds it (issue 14). Dense NumPy/SciPy model of the default VIE operator of Sources/Scattering/VIE.swift (filtered
coupled dipoles: point-dipole coupling + the FCD filter correction, FCD self term), right-preconditioned by

  * jacobi      diag(1 - S chi)                               (ISACKit's default)
  * nb<r>       exact sparse LU of the operator restricted to voxel pairs with |d|_inf <= r lattice steps
                (`--vie-preconditioner nearband --vie-near-radius r`)

with restarted GMRES(100) and with full GMRES (restart 3000), for chi = -j|chi| from lossy (|chi| = 64) to
PEC-like (|chi| = 65536), on a solid box and a closed box shell at lambda/6. Also prints the smallest eigenvalues of
the coupling matrix T, which bound the Jacobi-scaled operator (I - T chi)/(1 - S chi) -> T/S as |chi| -> inf.
Results are quoted in docs/BENCHMARKS.md ("VIE near-band preconditioner").

    python3 bench/scattering/vie_highcontrast_study.py          (about 2 min on 2 cores)
"""
import os
import sys
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as sla
import scipy.special as ss
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dyadic_green import dyadic_coefficients
from vie_nearfield_precond import box_shell, C0

F_HZ = 4.93e9


def fcd_correction(q, kd):
    """T_F - T_point at lattice offset q (pitches): the formula documented at VIEOperator.filteredGreenCorrection."""
    rn = np.linalg.norm(q); u = q / rn; kr = kd * rn; kfr = np.pi * rn
    si1, ci1 = ss.sici(kfr + kr); si2, ci2 = ss.sici(kfr - kr)
    cc = ci1 - ci2; s_ = np.pi - si1 - si2
    g0 = (np.sin(kr) * cc + np.cos(kr) * s_) / np.pi
    g2 = (kr * (np.cos(kr) * cc - np.sin(kr) * s_) + 2 / 3 * (kfr * np.cos(kfr) - 4 * np.sin(kfr))) / np.pi - g0
    t = g0 * kr * kr; sc = 1 / (4 * np.pi * rn ** 3)
    return -(t + g2) * sc * np.eye(3) + (t + 3 * g2) * sc * np.outer(u, u)


def coupling(pts, h, k):
    """Dense T (3n x 3n) with the FCD self term S on the diagonal."""
    n = len(pts); kd = k * h
    m = (4 / 3) * kd ** 2 + (2 / (3 * np.pi)) * np.log((np.pi - kd) / (np.pi + kd)) * kd ** 3 + 2j / 3 * kd ** 3
    s = -1 / 3 + np.conj(m) / (4 * np.pi)
    T = np.zeros((3 * n, 3 * n), complex)
    for a in range(n):
        T[3 * a:3 * a + 3, 3 * a:3 * a + 3] = s * np.eye(3)
        for b in range(n):
            if a != b:
                d = pts[a] - pts[b]; al, be, u = dyadic_coefficients(h * d, k)
                T[3 * a:3 * a + 3, 3 * b:3 * b + 3] = k * k * h ** 3 * (al * np.eye(3) + be * np.outer(u, u)) + fcd_correction(d, kd)
    return T, s


def solid(n):
    return np.array([(i, j, l) for i in range(n[0]) for j in range(n[1]) for l in range(n[2])], float)


def main():
    k = 2 * np.pi * F_HZ / C0; h = C0 / F_HZ / 6
    for name, pts in [("solid 8x6x5", solid((8, 6, 5))), ("shell 12x9x7", box_shell((12, 9, 7)))]:
        T, s = coupling(pts, h, k); n = len(pts)
        t = np.linalg.eigvals(T)
        print(f"{name}: {n} voxels, S = {s:.4f}, smallest |eig T| / |S| = {np.sort(np.abs(t))[:3] / abs(s)}", flush=True)
        b = np.random.default_rng(0).standard_normal(3 * n) + 0j
        dist = np.max(np.abs(pts[:, None, :] - pts[None, :, :]), axis=2)
        for chi in [-64j, -1024j, -65536j]:
            A = np.eye(3 * n) - T * chi; out = []
            for lab, rad in [("jacobi", 0), ("nb1", 1), ("nb2", 2), ("nb3", 3)]:
                mask = np.repeat(np.repeat(dist <= rad, 3, 0), 3, 1)
                lu = sla.splu(sp.csc_matrix(np.where(mask, A, 0)))
                op = sla.LinearOperator(A.shape, matvec=lambda v: A @ lu.solve(v), dtype=complex)
                for restart in [100, 3000]:
                    r = []
                    sla.gmres(op, b, rtol=1e-6, restart=restart, maxiter=30 if restart == 100 else 1,
                              callback=r.append, callback_type="pr_norm")
                    out.append(f"{lab}/{restart} {len(r)}")
            print(f"  chi {chi}: " + ", ".join(out), flush=True)


if __name__ == "__main__":
    main()
