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
if "--threads" in sys.argv:
    n = sys.argv[sys.argv.index("--threads") + 1]
    for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[v] = n
import numpy as np

d = sys.argv[1]
meta = json.load(open(os.path.join(d, "meta.json")))
B, K, S, NT, ND, TM = meta["samples"], meta["K"], meta["S"], meta["n_theta"], meta["n_tau"], meta["t_max"]
def load(name, rows, cols, count=1):
    a = np.fromfile(os.path.join(d, name), dtype="<c16")
    return a.reshape(count, cols, rows).transpose(0, 2, 1)  # column-major -> [count, rows, cols]
Y = load("observations.c128", K, S, B)
Pa = load("angle_atoms.c128", K, NT)[0]
Pd = load("delay_atoms.c128", S, ND)[0]
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
