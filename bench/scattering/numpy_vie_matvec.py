#!/usr/bin/env python3
"""NumPy counterpart of the FFT-VIE matvec timed by `isac scatter bench` (VIE rows).

Same problem: a cube of e^3 voxels (eps_r = 4 - 0.5j) at 10 voxels per wavelength, fc = 4.9 GHz; the
operator y = x - T chi x with T_mn = k0^2 dV G(r_m - r_n) (m != n) and the equivalent-sphere self term,
applied by embedding the Toeplitz convolution in a circulant of P = next 7-smooth >= 2e - 1 per axis
(N = P^3): 3 forward
FFTs, the 3x3 symmetric kernel product, 3 inverse FFTs (np.fft, single-threaded pocketfft).
For the smallest edge the FFT product is checked against a dense assembly.

Usage: python3 bench/scattering/numpy_vie_matvec.py [--edges 8 12 16 24 32] [--repeats 5]
"""
import argparse, json, math, os, sys, time
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dyadic_green import dyadic_coefficients

C0 = 299792458.0


def green_components(d, k):
    """6 components (xx, yy, zz, xy, xz, yz) of G(d) for separations d [..., 3] (d != 0)."""
    alpha, beta, u = dyadic_coefficients(d, k)
    ux, uy, uz = u[..., 0], u[..., 1], u[..., 2]
    return [alpha + beta * ux * ux, alpha + beta * uy * uy, alpha + beta * uz * uz,
            beta * ux * uy, beta * ux * uz, beta * uy * uz]


def fft_size(n):
    """Smallest 2*3*5*7-smooth integer >= n (the Swift side's circulant size)."""
    m = max(n, 1)
    while True:
        r = m
        for f in (2, 3, 5, 7):
            while r % f == 0:
                r //= f
        if r == 1:
            return m
        m += 1


def setup(e, k, h):
    n = fft_size(2 * e - 1)
    off = np.arange(n)
    off = np.where(off < e, off, off - n)        # circulant wrap: 0..e-1, then negative offsets
    di, dj, dl = np.meshgrid(off, off, off, indexing="ij")
    d = h * np.stack([di, dj, dl], axis=-1).astype(float)
    zero = (di == 0) & (dj == 0) & (dl == 0)
    d[zero] = [1.0, 0.0, 0.0]                    # placeholder, overwritten below
    comps = green_components(d, k)
    dv = h**3
    a = (3 * dv / (4 * np.pi)) ** (1 / 3)
    self_term = (2 / 3) * ((1 + 1j * k * a) * np.exp(-1j * k * a) - 1) - 1 / 3
    out = []
    for c, g in enumerate(comps):
        g = k * k * dv * g
        g[zero] = self_term if c < 3 else 0
        g[(np.abs(di) >= e) | (np.abs(dj) >= e) | (np.abs(dl) >= e)] = 0   # unused gap of the embedding
        out.append(np.fft.fftn(g))
    return out, self_term


def matvec(x, chi, khat, e):
    """x: [3, e, e, e] field; returns (I - T chi) x."""
    n = fft_size(2 * e - 1)
    g = np.zeros((3, n, n, n), dtype=complex)
    g[:, :e, :e, :e] = chi * x
    G = [np.fft.fftn(g[c]) for c in range(3)]
    kxx, kyy, kzz, kxy, kxz, kyz = khat
    o = [kxx * G[0] + kxy * G[1] + kxz * G[2],
         kxy * G[0] + kyy * G[1] + kyz * G[2],
         kxz * G[0] + kyz * G[1] + kzz * G[2]]
    y = np.stack([np.fft.ifftn(o[c])[:e, :e, :e] for c in range(3)])
    return x - y


def dense_check(e, k, h, chi, self_term, khat):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, e, e, e)) + 1j * rng.standard_normal((3, e, e, e))
    y = matvec(x, chi, khat, e)
    idx = np.stack(np.meshgrid(*[np.arange(e)] * 3, indexing="ij"), axis=-1).reshape(-1, 3)
    pts = h * idx
    xv = x.reshape(3, -1)
    err = 0.0
    for m in [0, len(pts) // 2, len(pts) - 1]:
        d = pts[m] - pts
        mask = np.any(d != 0, axis=1)
        comps = green_components(d[mask], k)
        Gm = np.array([[comps[0], comps[3], comps[4]], [comps[3], comps[1], comps[5]], [comps[4], comps[5], comps[2]]])
        s = k * k * h**3 * np.einsum("abn,bn->a", Gm, chi * xv[:, mask]) + self_term * chi * xv[:, m]
        ref = xv[:, m] - s
        got = y.reshape(3, -1)[:, m]
        err = max(err, np.abs(got - ref).max() / np.abs(ref).max())
    return err


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--edges", type=int, nargs="+", default=[8, 12, 16, 24, 32])
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    f = 4.9e9
    k = 2 * math.pi * f / C0
    h = C0 / f / 10
    chi = (4 - 0.5j) - 1
    rows = []
    for e in a.edges:
        t0 = time.perf_counter()
        khat, st = setup(e, k, h)
        t_setup = time.perf_counter() - t0
        rng = np.random.default_rng(5)
        x = rng.standard_normal((3, e, e, e)) + 1j * rng.standard_normal((3, e, e, e))
        matvec(x, chi, khat, e)
        ts, cs = [], []
        for _ in range(a.repeats):
            t1, c1 = time.perf_counter(), time.process_time()
            matvec(x, chi, khat, e)
            ts.append(time.perf_counter() - t1)
            cs.append(time.process_time() - c1)
        mv = float(np.median(cs))  # CPU time: the benchmark machine is shared
        N = fft_size(2 * e - 1) ** 3
        row = {"edge": e, "voxels": e**3, "fftSize": N, "setupSeconds": t_setup, "matvecCPUSeconds": mv, "matvecWallSeconds": float(np.median(ts)),
               "matvecPerNlogN_ns": mv / (N * math.log2(N)) * 1e9}
        if e == min(a.edges):
            row["denseCheckMaxRelErr"] = dense_check(e, k, h, chi, st, khat)
        rows.append(row)
    print(json.dumps({"numpy": np.__version__, "results": rows}, indent=1))


if __name__ == "__main__":
    main()
