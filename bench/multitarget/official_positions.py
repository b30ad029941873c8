"""Writes the true antenna positions hard-coded in the official code's lib/simulation_parameters.py
(github.com/josemateosramos/MBE2EMTISAC, the `ant_pos` tensor, metres, shape [K, 1]) to a float64 .npy file for
`isac multitarget ... --preset official-code --array-positions FILE`.

The numbers are read from a local checkout of that repository at run time (nothing is copied into ISACKit):

    git clone https://github.com/josemateosramos/MBE2EMTISAC /tmp/MBE2EMTISAC
    python3 bench/multitarget/official_positions.py /tmp/MBE2EMTISAC /tmp/official_positions.npy
"""
import os
import re
import sys

import numpy as np


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: official_positions.py OFFICIAL_REPO_DIR OUT.npy")
    src = open(os.path.join(sys.argv[1], "lib", "simulation_parameters.py")).read()
    # The assignment that is not commented out: `ant_pos = torch.tensor([[ ... ]], ...).T`.
    m = re.search(r"^ant_pos\s*=\s*torch\.tensor\(\[\[(.*?)\]\]", src, re.S | re.M)
    if m is None:
        sys.exit("no `ant_pos = torch.tensor([[...]])` assignment found")
    x = np.array([float(v) for v in m.group(1).replace("\n", " ").split(",") if v.strip()], dtype=np.float64)
    if not np.all(np.diff(x) > 0):
        sys.exit("positions are not strictly increasing")
    np.save(sys.argv[2], x.reshape(-1, 1))
    print(f"{len(x)} positions, aperture {x[-1] - x[0]:.6f} m, mean spacing {np.mean(np.diff(x)):.6e} m, "
          f"spacing std {np.std(np.diff(x)):.6e} m -> {sys.argv[2]}")


if __name__ == "__main__":
    main()
