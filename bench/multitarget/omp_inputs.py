"""Input loading shared by the NumPy multi-target references (numpy_omp.py, numpy_domp.py): the files written by
`isac multitarget bench --write-inputs DIR` (meta.json + column-major complex128 observation/atom matrices)."""
import json
import os


def set_blas_threads(argv, default=None):
    """BLAS thread count from `--threads N` (else `default`; None leaves the environment alone).
    Must run before NumPy is imported: OpenBLAS reads these variables once, at load."""
    n = argv[argv.index("--threads") + 1] if "--threads" in argv else default
    if n is not None:
        for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[v] = n
    return n


def load_inputs(d):
    """Returns (meta, Y [B, K, S], Phi_a [K, N_theta], Phi_d [S, N_tau]) from folder `d`."""
    import numpy as np
    meta = json.load(open(os.path.join(d, "meta.json")))
    B, K, S, NT, ND = meta["samples"], meta["K"], meta["S"], meta["n_theta"], meta["n_tau"]

    def load(name, rows, cols, count=1):
        a = np.fromfile(os.path.join(d, name), dtype="<c16")
        return a.reshape(count, cols, rows).transpose(0, 2, 1)  # column-major -> [count, rows, cols]

    return meta, load("observations.c128", K, S, B), load("angle_atoms.c128", K, NT)[0], load("delay_atoms.c128", S, ND)[0]
