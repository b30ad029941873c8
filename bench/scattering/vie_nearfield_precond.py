#!/usr/bin/env python3
"""Study (not a benchmark): GMRES iterations of the point-matched VIE on a closed metal-like box shell, with the
Jacobi preconditioner ISACKit uses vs a near-field preconditioner (exact sparse LU of the operator restricted to
voxel pairs within a radius). Dense NumPy/SciPy model of the same operator as Sources/Scattering/VIE.swift
(T_mn = k0^2 dV G(r_m - r_n), equal-volume-sphere self term). Results are quoted in docs/scattering.md.

    python3 bench/scattering/vie_nearfield_precond.py [--voxels-per-wavelength 6] [--box 14 10 8]
"""
import argparse
import os
import sys
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as sla
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dyadic_green import dyadic_coefficients

C0 = 299792458.0


def dyadic(d, k):
    alpha, beta, u = dyadic_coefficients(d, k)
    return alpha * np.eye(3) + beta * np.outer(u, u)


def operator_T(pts, h, k):
    n = len(pts); dv = h**3; ka = k * (3 * dv / (4 * np.pi)) ** (1 / 3)
    self_term = (2 / 3) * ((1 + 1j * ka) * np.exp(-1j * ka) - 1) - 1 / 3
    T = np.zeros((3 * n, 3 * n), complex)
    for m in range(n):
        T[3 * m:3 * m + 3, 3 * m:3 * m + 3] = self_term * np.eye(3)
        for q in range(n):
            if q != m:
                T[3 * m:3 * m + 3, 3 * q:3 * q + 3] = k * k * dv * dyadic(h * (pts[m] - pts[q]), k)
    return T, self_term


def box_shell(n):
    return np.array([(i, j, l) for i in range(n[0]) for j in range(n[1]) for l in range(n[2])
                     if i in (0, n[0] - 1) or j in (0, n[1] - 1) or l in (0, n[2] - 1)], float)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--voxels-per-wavelength", type=float, default=6)
    ap.add_argument("--box", type=int, nargs=3, default=[14, 10, 8])
    ap.add_argument("--frequency-hz", type=float, default=4.93e9)
    a = ap.parse_args()
    k = 2 * np.pi * a.frequency_hz / C0; h = C0 / a.frequency_hz / a.voxels_per_wavelength
    pts = box_shell(a.box); n = len(pts)
    T, self_term = operator_T(pts, h, k)
    b = np.random.default_rng(0).standard_normal(3 * n) + 0j
    dist = np.linalg.norm(pts[:, None, :] - pts[None, :, :], axis=2)
    for chi in [-7j, -15j]:
        X = np.repeat(np.full(n, chi), 3)
        A = np.eye(3 * n) - T * X[None, :]

        def iterations(M):
            r = []
            sla.gmres(A, b, M=M, rtol=1e-3, restart=100, maxiter=20, callback=r.append, callback_type="pr_norm")
            return len(r)

        D = 1 / (1 - self_term * X)
        row = [f"chi={chi.imag:+.0f}j unknowns={3 * n} jacobi={iterations(sla.LinearOperator(A.shape, matvec=lambda v: D * v, dtype=complex))}"]
        for radius in [1.01, 1.75, 2.01]:
            mask = np.kron(dist <= radius, np.ones((3, 3), bool))
            lu = sla.splu(sp.csc_matrix(np.where(mask, A, 0)))
            row.append(f"nearfield(r<={radius}h)={iterations(sla.LinearOperator(A.shape, matvec=lu.solve, dtype=complex))}")
        print("  ".join(row), flush=True)


if __name__ == "__main__":
    main()
