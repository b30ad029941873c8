#!/usr/bin/env python3
"""Cross-check of the project's Mie series (Sources/Scattering/Mie.swift) against miepython (PyPI).

Runs `isac scatter sphere --json` (a coarse VIE grid: only the Mie columns are used) for a few spheres and compares
S1(θ), S2(θ) (Bohren–Huffman values, complex) and Q_sca with miepython's `S1_S2(norm='wiscombe')` and
`efficiencies_mx`. (miepython's norm='wiscombe' is the unnormalized Bohren–Huffman S; its 'bohren' option is half of it.) miepython uses m = n − iκ (loss is a negative imaginary part); Mie.swift takes ε_r with Im ≤ 0
(e^{jωt}) and uses m = conj(√ε_r) internally, so m_miepython = conj(m_BH) = √ε_r.

    pip install miepython
    python3 bench/scattering/mie_crosscheck.py [--isac .build/release/isac]
"""
import argparse, json, subprocess, sys
import numpy as np
import miepython

p = argparse.ArgumentParser()
p.add_argument("--isac", default=".build/release/isac")
a = p.parse_args()

cases = [(0.5, 4, -0.5), (2.0, 4, -1.0), (2.6, 4, -0.5), (5.0, 2.25, 0.0), (3.0, 12, -8.0)]
worst = 0.0
print(f"{'ka':>5} {'eps':>12}  max|ΔS|/max|S|   ΔQsca/Qsca")
for ka, er, ei in cases:
    out = subprocess.run([a.isac, "scatter", "sphere", "--ka", str(ka), "--eps-re", str(er), "--eps-im", str(ei),
                          "--voxels-per-wavelength", "3", "--angles", "37", "--json"], capture_output=True, text=True, check=True)
    o = json.loads(out.stdout)
    mu = np.cos(np.radians(np.array(o["anglesDeg"])))
    m = np.sqrt(complex(er, ei))          # miepython: m = n − iκ
    s1, s2 = miepython.S1_S2(m, ka, mu, norm="wiscombe")
    # Mie.swift's BH amplitudes use m_BH = conj(√ε) = n + iκ; miepython's index n − iκ gives the complex-conjugate
    # amplitudes (the two time conventions), so ours = conj(miepython).
    ours1 = np.array([complex(*v) for v in o["mieS1"]]); ours2 = np.array([complex(*v) for v in o["mieS2"]])
    d = max(np.max(np.abs(ours1 - np.conj(s1))), np.max(np.abs(ours2 - np.conj(s2))))
    rel = d / max(np.max(np.abs(s1)), np.max(np.abs(s2)))
    qext, qsca, qback, g = miepython.efficiencies_mx(m, ka)
    dq = abs(o["qscaMie"] - qsca) / qsca
    worst = max(worst, rel, dq)
    print(f"{ka:5.2f} {er:5.2f}{ei:+6.2f}j   {rel:12.2e}   {dq:10.2e}")
print(f"worst relative difference {worst:.2e}")
sys.exit(0 if worst < 1e-8 else 1)
