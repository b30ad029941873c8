#!/usr/bin/env python3
"""NumPy reference of the baseline OMP receiver (paper Algorithm 1) on the inputs written by
`isac multitarget bench --write-inputs DIR`. Checks that the detections equal Swift's and reports
samples/s for two variants:
  naive       - Algorithm 1 as written: residual recomputed, map = two GEMMs every iteration,
                gains by lstsq on the vectorised atoms.
  incremental - the same algorithm as the Swift receiver: one initial map, rank-I map update,
                Gram normal equations for the gains.
Usage: python3 bench/multitarget/numpy_omp.py DIR [--threads 1]
"""
import json, os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from omp_inputs import set_blas_threads, load_inputs
n = set_blas_threads(sys.argv, default=None)
import numpy as np

meta, Y, Pa, Pd = load_inputs(sys.argv[1])
B, K, S, NT, ND, TM = meta["samples"], meta["K"], meta["S"], meta["n_theta"], meta["n_tau"], meta["t_max"]
Pdc = Pd.conj()

def omp_naive(y):
    sel, peaks, R = [], [], y.copy()
    for _ in range(TM):
        L = np.abs(Pa.conj().T @ (R @ Pdc)) ** 2
        k = int(np.argmax(L.ravel(order="F"))); i, j = k % NT, k // NT
        peaks.append(float(L[i, j])); sel.append((i, j))
        A = np.stack([np.outer(Pa[:, a], Pd[:, b]).ravel() for a, b in sel], axis=1)
        g = np.linalg.lstsq(A, y.ravel(), rcond=None)[0]
        R = y - (A @ g).reshape(K, S)
    return sel, peaks

def omp_incremental(y):
    C0 = Pa.conj().T @ (y @ Pdc); C = C0
    sel, peaks, U, V = [], [], [], []
    for _ in range(TM):
        k = int(np.argmax((C.real**2 + C.imag**2).ravel(order="F"))); i, j = k % NT, k // NT
        peaks.append(float(abs(C[i, j])**2)); sel.append((i, j))
        U.append(Pa.conj().T @ Pa[:, i]); V.append(Pd.conj().T @ Pd[:, j])
        Um, Vm = np.stack(U, 1), np.stack(V, 1)
        ii = [a for a, _ in sel]; jj = [b for _, b in sel]
        G = Um[ii, :] * Vm[jj, :]
        g = np.linalg.solve(G, C0[ii, jj])
        C = C0 - (Um * g) @ Vm.T
    return sel, peaks

res = {}
for name, fn in (("naive", omp_naive), ("incremental", omp_incremental)):
    fn(Y[0])  # warm-up
    t0 = time.perf_counter(); out = [fn(Y[b]) for b in range(B)]; dt = time.perf_counter() - t0
    same = all([a for a, _ in o[0]] == meta["swift_angle_indices"][b] and [c for _, c in o[0]] == meta["swift_delay_indices"][b]
               for b, o in enumerate(out))
    relpk = max(abs(p - q) / max(q, 1e-300) for b, o in enumerate(out) for p, q in zip(o[1], meta["swift_peaks"][b]))
    res[name] = {"samples_per_s": B / dt, "same_detections_as_swift": same, "max_rel_peak_diff": relpk}
res["swift_omp_samples_per_s_1thread"] = meta["swift_omp_samples_per_s_1thread"]
res["numpy"] = np.__version__
print(json.dumps(res, indent=1))
