#!/usr/bin/env python3
"""NumPy reference of the differentiable OMP forward pass (paper Sec. IV-B; Sources/MultiTargetISAC/
DifferentiableOMP.swift) on the inputs written by `isac multitarget bench --write-inputs DIR`.

Independent re-implementation: arg max of |Phi_a^H R Phi_d^*|^2, window of one resolution cell of eq. (16)
(|sin th_i - sin th*| <= s/K, |tau_j - tau*| <= s/(2 S df)), softmax of L/(T L_peak), weighted grid average,
steering/delay vectors recomputed at the off-grid estimate, LS refit of all gains, residual map update.
Checks the estimates against Swift's and reports samples/s (single thread by default).
Usage: python3 bench/multitarget/numpy_domp.py DIR [--threads 1]
"""
import json, os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from omp_inputs import set_blas_threads, load_inputs
n = set_blas_threads(sys.argv, default="1")
import numpy as np

meta, Y, Pa, Pd = load_inputs(sys.argv[1])
B, K, S, NT, ND, TM = meta["samples"], meta["K"], meta["S"], meta["n_theta"], meta["n_tau"], meta["t_max"]
Pdc = Pd.conj()
th = np.array(meta["grid_angles_rad"]); tau = np.array(meta["grid_delays_s"])
pos = np.array(meta["element_positions_m"]); lam = meta["wavelength_m"]; df = meta["subcarrier_spacing_hz"]
T, ws = meta["domp_temperature"], meta["domp_window_scale"]
sin_th = np.sin(th); svec = np.arange(S)

def domp(y):
    c0 = Pa.conj().T @ (y @ Pdc)
    cmap = c0.copy()
    A, R, rhs, U, V = [], [], [], [], []
    out_th, out_tau, peaks = [], [], []
    for _ in range(TM):
        L = np.abs(cmap) ** 2
        i, j = np.unravel_index(np.argmax(L.T), (ND, NT))[::-1]   # column-major first max, as Swift
        pk = L[i, j]; peaks.append(pk)
        ia = np.nonzero(np.abs(sin_th - sin_th[i]) <= ws / K)[0]
        jd = np.nonzero(np.abs(tau - tau[j]) <= ws / (2 * S * df))[0]
        Lw = L[np.ix_(ia, jd)]
        w = np.exp((Lw - pk) / (T * pk)); w /= w.sum()
        t_hat = float((w * th[ia][:, None]).sum()); d_hat = float((w * tau[jd][None, :]).sum())
        out_th.append(t_hat); out_tau.append(d_hat)
        a = np.exp(-2j * np.pi * pos * np.sin(t_hat) / lam)
        rho = np.exp(-2j * np.pi * svec * df * d_hat)
        A.append(a); R.append(rho); rhs.append(a.conj() @ (y @ rho.conj()))
        U.append(Pa.conj().T @ a); V.append(Pd.conj().T @ rho)
        Aa, Rr = np.array(A), np.array(R)
        G = (Aa.conj() @ Aa.T) * (Rr.conj() @ Rr.T)
        alpha = np.linalg.solve(G, np.array(rhs))
        cmap = c0 - (np.array(U).T * alpha) @ np.array(V)
    return out_th, out_tau, peaks

for name, f in (("domp", domp),):
    domp(Y[0])
    t0 = time.perf_counter()
    res = [f(Y[b]) for b in range(B)]
    rate = B / (time.perf_counter() - t0)
    dth = max(abs(a - b) for r, s in zip(res, meta["domp_angles_rad"]) for a, b in zip(r[0], s))
    dtau = max(abs(a - b) for r, s in zip(res, meta["domp_delays_s"]) for a, b in zip(r[1], s))
    dpk = max(abs(a - b) / b for r, s in zip(res, meta["domp_peaks"]) for a, b in zip(r[2], s))
    print(json.dumps({"variant": name, "samples": B, "numpy_samples_per_s": rate,
                      "swift_samples_per_s_1thread": meta["swift_domp_samples_per_s_1thread"],
                      "max_abs_angle_diff_rad": dth, "max_abs_delay_diff_s": dtau, "max_rel_peak_diff": dpk,
                      "threads": n}))
