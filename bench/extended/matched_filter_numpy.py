#!/usr/bin/env python3
"""NumPy counterpart of `isac extended evaluate --classical` (near-field matched filter only).

Independent re-implementation of ExtendedTarget.NearFieldMatchedFilter on the same dataset test split:
    S(q) = |sum_k a_r,k(q)^H H_k conj(a_t,k(q))|^2 / sum_k ||a_r,k||^2 ||a_t,k||^2,
    [a_k(q)]_n = exp(-j kappa_k ||q - p_n||) / ||q - p_n||,  kappa_k = 2 pi f_k / c,
on a 0.5 m x 0.5 deg (r, theta) grid, then a 5x finer grid over +-1 coarse cell. Cross array: Tx ULA
along y, Rx ULA along z, spacing lambda_c/2, both centred at the origin; focusing plane z0 = mean
target-centre height of the training split. Prints wall time and the test MAEs so they can be
compared with the Swift run (same numbers up to grid ties).

Usage: python3 bench/extended/matched_filter_numpy.py DATASET_DIR
"""
import json
import sys
import time

import numpy as np

C0 = 299_792_458.0


def load(ds):
    m = json.load(open(f"{ds}/manifest.json"))
    labels, chans = {}, {}
    for rec in m["chunks"]:
        x = np.load(f"{ds}/{rec['file']}")          # [n, Nr, Nt, K] complex64, C order
        for j, lab in enumerate(rec["labels"]):
            labels[lab["index"]] = lab
            chans[lab["index"]] = x[j]
    return m, labels, chans


def steering(pos, pts, kappa):
    """[P, N] spherical steering for points pts [P, 3], elements pos [N, 3]."""
    d = np.linalg.norm(pts[:, None, :] - pos[None, :, :], axis=2)
    return np.exp(-1j * kappa * d) / d, (1.0 / d ** 2).sum(axis=1)


def scores(H, pts, tx, rx, freqs):
    """H [B, Nr, Nt, K] -> scores [B, P]."""
    acc = np.zeros((H.shape[0], pts.shape[0]), complex)
    norm = np.zeros(pts.shape[0])
    for k, f in enumerate(freqs):
        kappa = 2 * np.pi * f / C0
        at, nt2 = steering(tx, pts, kappa)
        ar, nr2 = steering(rx, pts, kappa)
        y = H[:, :, :, k] @ at.conj().T                       # [B, Nr, P]
        acc += np.einsum("rp,brp->bp", ar.conj().T, y)
        norm += nt2 * nr2
    return np.abs(acc) ** 2 / norm


def main():
    ds = sys.argv[1]
    m, labels, chans = load(ds)
    c = m["config"]
    n, fc = c["antennas"], c["carrierHz"]
    freqs = np.array(m["frequenciesHz"], float)
    d = C0 / fc / 2
    u = (np.arange(n) - (n - 1) / 2) * d
    tx = np.stack([np.zeros(n), u, np.zeros(n)], 1)
    rx = np.stack([np.zeros(n), np.zeros(n), u], 1)
    z0 = float(np.mean([labels[i]["center"][2] for i in m["splits"]["train"]]))
    test = m["splits"]["test"]
    H = np.stack([chans[i] for i in test]).astype(complex)
    r_min, r_max = c["rangeMinM"], c["rangeMaxM"]
    a_min, a_max = np.deg2rad(c["azimuthMinDeg"]), np.deg2rad(c["azimuthMaxDeg"])
    rs, da = 0.5, np.deg2rad(0.5)
    rg = r_min + rs * np.arange(int(np.floor((r_max - r_min) / rs)) + 1)
    ag = a_min + da * np.arange(int(np.floor((a_max - a_min) / da + 1e-9)) + 1)
    R, A = np.meshgrid(rg, ag, indexing="ij")
    pts = np.stack([R.ravel() * np.cos(A.ravel()), R.ravel() * np.sin(A.ravel()), np.full(R.size, z0)], 1)

    t0 = time.perf_counter()
    est = []
    for b0 in range(0, len(test), 16):
        s = scores(H[b0:b0 + 16], pts, tx, rx, freqs)
        for i, row in enumerate(s):
            j = int(np.argmax(row))
            r0, a0 = rg[j // len(ag)], ag[j % len(ag)]
            f = 5
            off = np.arange(-f, f + 1)
            fr = np.clip(r0 + off * rs / f, r_min, r_max)
            fa = np.clip(a0 + off * da / f, a_min, a_max)
            FR, FA = np.meshgrid(fr, fa, indexing="ij")
            fp = np.stack([FR.ravel() * np.cos(FA.ravel()), FR.ravel() * np.sin(FA.ravel()), np.full(FR.size, z0)], 1)
            k = int(np.argmax(scores(H[b0 + i:b0 + i + 1], fp, tx, rx, freqs)[0]))
            est.append((FR.ravel()[k], FA.ravel()[k]))
    secs = time.perf_counter() - t0

    r_true = np.array([labels[i]["rangeM"] for i in test])
    a_true = np.deg2rad([labels[i]["azimuthDeg"] for i in test])
    r_hat, a_hat = np.array(est).T
    dth = (a_hat - a_true + np.pi) % (2 * np.pi) - np.pi
    planar = np.sqrt(np.maximum(0, r_hat ** 2 + r_true ** 2 - 2 * r_hat * r_true * np.cos(dth)))
    print(json.dumps({
        "samples": len(test), "grid_points": int(pts.shape[0]), "tones": len(freqs), "seconds": round(secs, 3),
        "range_mae_m": float(np.mean(np.abs(r_hat - r_true))), "azimuth_mae_deg": float(np.rad2deg(np.mean(np.abs(dth)))),
        "planar_mae_m": float(np.mean(planar)), "succ_1m_pct": float(100 * np.mean(planar <= 1.0)),
    }))


if __name__ == "__main__":
    main()
