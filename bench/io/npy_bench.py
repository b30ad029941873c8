"""NumPy reference for bench/io (same payload and best-of-5 as io-bench): python3 bench/io/npy_bench.py [MiB]"""
import io, os, sys, tempfile, time, zlib
import numpy as np

mib = int(sys.argv[1]) if len(sys.argv) > 1 else 64
n = mib * 1024 * 1024 // 16
rng = np.random.default_rng(1)
a = ((rng.standard_normal(n) + 1j * rng.standard_normal(n)) / np.sqrt(2)).reshape(n // 64, 64)
d = tempfile.mkdtemp()

def best(label, nbytes, f):
    t = min((lambda t0: (f(), time.perf_counter() - t0)[1])(time.perf_counter()) for _ in range(5))
    rate = f"{nbytes / t / 1e6:8.0f} MB/s" if nbytes else ""
    print(f"{label:<34} {t * 1e3:9.2f} ms  {rate}")

print(f"payload: complex128 {a.shape} = {mib} MiB, numpy {np.__version__}")
def enc():
    b = io.BytesIO(); np.save(b, a); return b.getvalue()
best("np.save to BytesIO", a.nbytes, enc)
raw = enc()
best("np.load from BytesIO", a.nbytes, lambda: np.load(io.BytesIO(raw)))
p = os.path.join(d, "a.npy")
best("np.save (file)", a.nbytes, lambda: np.save(p, a))
best("np.load (file)", a.nbytes, lambda: np.load(p))
z = os.path.join(d, "a.npz")
best("np.savez (stored)", a.nbytes, lambda: np.savez(z, H=a))
best("np.load(npz)['H']", a.nbytes, lambda: np.load(z)["H"])
best("zlib.crc32", a.nbytes, lambda: zlib.crc32(raw))
