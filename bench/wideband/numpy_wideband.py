#!/usr/bin/env python3
"""NumPy counterpart of `isac wideband bench` (paper-size wideband near-field steps).

Runs the same four steps on the same inputs as the Swift benchmark:
  dictionary  exact WB-NF hybrid dictionary B [NM x Q], unit-norm atoms exp(-j k_m r_n)/sqrt(NM)
  somp        SOMP with P = 3 on Y [NM x K] (B^H Y once, closed-form Gram column per pick, LS refit)
  nbnf-music  R = (1/MK) sum_m Y_m Y_m^H, eigh, 1/(N - ||U_s^H a||^2) on the scan grid
  wbff-music  thin SVD of Y, factorized planar scan 1/(NM - ||U_s^H a||^2) (no NM x NM covariance)
  dictionary-f32  the same dictionary stored as complex64 (computed in float64, rounded once)
  somp-f32    SOMP with B^H Y as one complex64 GEMM on it, everything else (Gram, refit, lstsq) in float64;
              no double-precision verification of the picks (the Swift side does one), so NumPy does less work

Inputs come from `isac wideband bench --export DIR` (Y.npy, grid_*.npy, scan_*.npy, system.json).
Usage:
  isac wideband bench --export /tmp/wbbench --repeats 1 --quiet
  python3 bench/wideband/numpy_wideband.py --inputs /tmp/wbbench [--step somp] [--repeats 3] [--json]
Timing: wall clock (time.perf_counter) and CPU time (time.process_time, all threads), best and median of
--repeats; memory: ru_maxrss after each step
(run one --step per process for a per-step peak). Set OPENBLAS_NUM_THREADS to match the Swift run.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import numpy as np

C = 299_792_458.0
STEPS = ["dictionary", "somp", "nbnf-music", "wbff-music", "dictionary-f32", "somp-f32"]


def load(d):
    with open(os.path.join(d, "system.json")) as f:
        sysp = json.load(f)
    y = np.load(os.path.join(d, "Y.npy"))
    return (sysp, np.asarray(y, dtype=np.complex128),
            np.load(os.path.join(d, "grid_range_m.npy")), np.load(os.path.join(d, "grid_alpha.npy")),
            np.load(os.path.join(d, "scan_range_m.npy")), np.load(os.path.join(d, "scan_angle_rad.npy")))


def geometry(sysp):
    n, m = sysp["antennas"], sysp["subcarriers"]
    x = (np.arange(n) - (n - 1) / 2) * sysp["spacing_m"]
    k = 2 * np.pi * (sysp["carrier_hz"] + np.arange(m) * sysp["bandwidth_hz"] / m) / C
    return n, m, x, k


def build_dictionary(sysp, rr, aa, chunk=32, dtype=np.complex128):
    """Bt [Q x NM] (row q = atom q, entry n + m*N), i.e. B stored transposed (C order == B in Fortran order)."""
    n, m, x, k = geometry(sysp)
    q = rr.size
    bt = np.empty((q, n * m), dtype=dtype)
    scale = 1 / np.sqrt(n * m)
    for c0 in range(0, q, chunk):
        c1 = min(q, c0 + chunk)
        r = rr[c0:c1, None]
        rn = np.sqrt(r * r + x[None, :] ** 2 - 2 * r * x[None, :] * aa[c0:c1, None])       # [c x N]
        ph = k[None, :, None] * rn[:, None, :]                                                # [c x M x N]
        bt[c0:c1] = (np.exp(-1j * ph) * scale).reshape(c1 - c0, n * m)
    return bt


def atom_distances(sysp, rr, aa):
    _, _, x, _ = geometry(sysp)
    return np.sqrt(rr[:, None] ** 2 + x[None, :] ** 2 - 2 * rr[:, None] * x[None, :] * aa[:, None])   # [Q x N]


def gram_column(sysp, dist, q):
    """b_j^H b_q for all j from the closed-form subcarrier (Dirichlet) sum, O(QN) (same as the Swift side)."""
    n, m, _, k = geometry(sysp)
    dk = k[1] - k[0] if m > 1 else 0.0
    d = dist - dist[q][None, :]
    half = dk * d / 2
    den = np.sin(half)
    small = np.abs(den) < 1e-12
    mag = np.where(small, m, np.sin(m * half) / np.where(small, 1.0, den))
    return np.sum(mag * np.exp(1j * (k[0] * d + (m - 1) * half)), axis=1) / (n * m)


def somp(bt, y, p, gram_fn=None):
    if bt.dtype == np.complex64:                  # single-precision correlation, the rest in float64
        corr0 = np.conj(bt @ np.conj(y).astype(np.complex64)).astype(np.complex128)
    else:
        corr0 = np.conj(bt @ np.conj(y))          # B^H Y [Q x K] without a conjugated copy of B
    q = bt.shape[0]
    gram = np.zeros((q, 0), dtype=np.complex128)
    support, x = [], np.zeros((0, y.shape[1]), dtype=np.complex128)
    chosen = np.zeros(q, dtype=bool)
    for _ in range(p):
        corr = corr0 - gram @ x if support else corr0
        e = np.sum(np.abs(corr) ** 2, axis=1)
        e[chosen] = -np.inf
        best = int(np.argmax(e))
        chosen[best] = True
        support.append(best)
        g = gram_fn(best) if gram_fn else np.conj(bt @ np.conj(bt[best]))
        gram = np.concatenate([gram, g[:, None]], axis=1)
        bs = bt[support].T.astype(np.complex128)
        x = np.linalg.lstsq(bs, y, rcond=None)[0]
    return support


def local_maxima(s, count):
    """Top `count` 8-neighbourhood local maxima of s [rows x cols] (same rule as Peaks.localMaxima2D, no ties)."""
    pad = np.pad(s, 1, constant_values=-np.inf)
    ok = np.ones_like(s, dtype=bool)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di == 0 and dj == 0:
                continue
            nb = pad[1 + di:1 + di + s.shape[0], 1 + dj:1 + dj + s.shape[1]]
            ok &= s >= nb
    idx = np.argwhere(ok)
    vals = s[ok]
    order = np.argsort(-vals)[:count]
    return [tuple(idx[i]) for i in order]


def nbnf_music(sysp, y, p, sr, st, block=32):
    n, m, x, k = geometry(sysp)
    kk = y.shape[1]
    z = y.reshape(m, n, kk).transpose(1, 0, 2).reshape(n, m * kk)
    r = z @ np.conj(z.T) / (m * kk)
    _, v = np.linalg.eigh(r)
    us = v[:, -p:]
    kc = k[0]
    spec = np.empty((st.size, sr.size))
    for t0 in range(0, st.size, block):
        t1 = min(st.size, t0 + block)
        c = np.cos(st[t0:t1])[:, None, None]
        dist = np.sqrt(sr[None, :, None] ** 2 + x[None, None, :] ** 2 - 2 * sr[None, :, None] * x[None, None, :] * c)
        a = np.exp(-1j * kc * dist)                                   # [t x r x N]
        proj = a @ np.conj(us)                                         # [t x r x P] = (U_s^H a)^T
        spec[t0:t1] = 1 / np.maximum(n - np.sum(np.abs(proj) ** 2, axis=2), n * 1e-14)
    return spec


def wbff_music(sysp, y, p, sr, st, block=32):
    n, m, x, k = geometry(sysp)
    u = np.linalg.svd(y, full_matrices=False)[0][:, :p]              # thin SVD, [NM x P]
    ur = u.reshape(m, n, p)
    alpha = np.cos(st)
    w = np.empty((m, p, st.size), dtype=np.complex128)                # W[m, p, t] = sum_n conj(U) e^{j k_m x_n a_t}
    for m0 in range(0, m, block):
        m1 = min(m, m0 + block)
        e = np.exp(1j * k[m0:m1, None, None] * x[None, :, None] * alpha[None, None, :])   # [b x N x T]
        w[m0:m1] = np.matmul(np.conj(ur[m0:m1]).transpose(0, 2, 1), e)
    f = np.exp(-1j * np.outer(k, sr))                                 # [M x R]
    proj = w.reshape(m, p * st.size).T @ f                            # [(P*T) x R]
    ps = np.sum(np.abs(proj.reshape(p, st.size, sr.size)) ** 2, axis=0)
    nm = n * m
    return 1 / np.maximum(nm - ps, nm * 1e-14)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inputs", required=True, help="folder written by `isac wideband bench --export`")
    ap.add_argument("--step", choices=STEPS)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if a.repeats < 1:
        sys.exit("invalid --repeats: must be >= 1")
    sysp, y, rr, aa, sr, st = load(a.inputs)
    p = sysp["targets"]
    steps = [a.step] if a.step else STEPS
    out, bt, bt32 = [], None, None

    cpu = []

    def timed(fn):
        secs, res = [], None
        cpu.clear()
        for _ in range(a.repeats):
            c0 = time.process_time()
            t0 = time.perf_counter()
            res = fn()
            secs.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        return secs, res

    for s in steps:
        if s == "dictionary":
            def run():
                nonlocal bt
                bt = None
                bt = build_dictionary(sysp, rr, aa)
                return {"atoms": bt.shape[0], "rows": bt.shape[1]}
            secs, res = timed(run)
        elif s == "dictionary-f32":
            def run():
                nonlocal bt32
                bt32 = None
                bt32 = build_dictionary(sysp, rr, aa, dtype=np.complex64)
                return {"atoms": bt32.shape[0], "rows": bt32.shape[1], "precision": "complex64"}
            secs, res = timed(run)
        elif s in ("somp", "somp-f32"):
            if s == "somp" and bt is None:
                bt = build_dictionary(sysp, rr, aa)
            if s == "somp-f32" and bt32 is None:
                bt32 = build_dictionary(sysp, rr, aa, dtype=np.complex64)
            bb = bt if s == "somp" else bt32
            def run():
                dist = atom_distances(sysp, rr, aa)
                return somp(bb, y, p, lambda q: gram_column(sysp, dist, q))
            secs, sup = timed(run)
            res = {"support": sup, "estimates": [{"range_m": float(rr[i]), "angle_deg": float(np.degrees(np.arccos(aa[i])))} for i in sup]}
        else:
            fn = nbnf_music if s == "nbnf-music" else wbff_music
            secs, spec = timed(lambda: fn(sysp, y, p, sr, st))
            res = {"peaks": [{"range_m": float(sr[j]), "angle_deg": float(np.degrees(st[i]))} for i, j in local_maxima(spec, p)]}
        out.append({"step": s, "best_s": min(secs), "median_s": statistics.median(secs), "seconds": secs,
                    "cpu_seconds": list(cpu), "best_cpu_s": min(cpu),
                    "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, "result": res})
    if a.json:
        print(json.dumps({"implementation": "numpy", "numpy": np.__version__, "steps": out}))
    else:
        print(f"numpy {np.__version__}, NM = {y.shape[0]}, atoms = {rr.size}, scan = {sr.size} x {st.size}, repeats = {a.repeats}")
        print("step          best wall (s)  median wall (s)  best CPU (s)  peak RSS (MiB)")
        for o in out:
            print(f"{o['step']:<12}  {o['best_s']:13.3f}  {o['median_s']:15.3f}  {o['best_cpu_s']:12.3f}  {o['peak_rss_bytes'] / 2**20:14.1f}")


if __name__ == "__main__":
    main()
