#!/usr/bin/env python3
"""NumPy counterpart of `isac bench foundation`: same operations, same sizes, same flop counts.

Usage: python3 bench/foundation/numpy_bench.py [--quick] [--json]
Skips gracefully (exit 0, message on stderr) when numpy is not installed.
"""
import json
import math
import platform
import sys
import time

try:
    import numpy as np
except ImportError:  # benchmark-only dependency
    print("numpy not installed; skipping NumPy foundation benchmark", file=sys.stderr)
    sys.exit(0)

QUICK = "--quick" in sys.argv
AS_JSON = "--json" in sys.argv
REPEATS = 3
C = 299_792_458.0


def best(fn):
    t = math.inf
    for _ in range(REPEATS):
        s = time.perf_counter()
        fn()
        t = min(t, time.perf_counter() - s)
    return t


def heevd_flops(n):
    return (16.0 / 3.0 + 8.0) * n**3  # same nominal count as BenchFoundation.heevdFlops


rng = np.random.default_rng(1)
rows = []


def record(op, size, seconds, flops):
    rows.append({"op": op, "size": size, "seconds": seconds, "gflops": flops / seconds / 1e9})
    if not AS_JSON:
        print(f"{op:<22} {size:<16} {seconds:9.4f} s  {flops / seconds / 1e9:8.2f} GFLOP/s", file=sys.stderr)


npk = 512 if QUICK else 2048
da = np.asfortranarray(rng.standard_normal((npk, npk)))
db = np.asfortranarray(rng.standard_normal((npk, npk)))
t = best(lambda: da @ db)
record("dgemm (peak ref)", str(npk), t, 2 * npk**3)
peak = 2 * npk**3 / t / 1e9

for n in ([128, 256] if QUICK else [512, 1024, 2048]):
    a = (rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))) / math.sqrt(2)
    b = (rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))) / math.sqrt(2)
    t = best(lambda: a @ b)
    record("zgemm", str(n), t, 8 * n**3)

for n in ([64, 128] if QUICK else [256, 512]):
    b = (rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))) / math.sqrt(2)
    a = b @ b.conj().T
    t = best(lambda: np.linalg.eigh(a))  # LAPACK zheevd, eigenvectors included
    record("zheevd (vectors)", str(n), t, heevd_flops(n))

# Near-field steering dictionary: N = 127, d = λ/2 at 28 GHz, 512 angles × ranges in [2, 86] m.
lam = C / 28e9
k = 2 * math.pi / lam
n_ant = 127
pos = (np.arange(n_ant) - (n_ant - 1) / 2) * lam / 2
n_atoms = 2048 if QUICK else 61_440
n_ang = 512
n_rng = (n_atoms + n_ang - 1) // n_ang


def build():
    r = 2.0 + 84.0 * np.arange(n_rng) / max(n_rng - 1, 1)
    th = np.pi * (np.arange(n_ang) + 0.5) / n_ang
    rr = np.repeat(r, n_ang)
    tt = np.tile(th, n_rng)
    qx, qy = rr * np.cos(tt), rr * np.sin(tt)
    dist = np.sqrt((qx[None, :] - pos[:, None]) ** 2 + qy[None, :] ** 2)
    return np.exp(-1j * k * (dist - rr[None, :]))


t = best(build)
record("near-field dictionary", f"127x{n_rng * n_ang}", t, 20 * 127 * n_rng * n_ang)

model = "unknown"
try:
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
except OSError:
    pass

if AS_JSON:
    print(json.dumps({"machine": model, "numpy": np.__version__, "python": platform.python_version(),
                      "dgemm_peak_gflops": peak, "results": rows}))
else:
    print(f"machine: {model}; numpy {np.__version__}; dgemm peak {peak:.2f} GFLOP/s")
    print("op                     size              seconds    GFLOP/s  % of dgemm peak")
    for r in rows:
        print(f"{r['op']:<22} {r['size']:<16} {r['seconds']:9.4f}  {r['gflops']:9.2f}  {100 * r['gflops'] / peak:6.1f}%")
