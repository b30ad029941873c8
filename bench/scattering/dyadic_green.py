"""Free-space dyadic Green's function shared by the NumPy scattering scripts (e^{jwt}, outgoing e^{-jkR}),
the same closed form as Fields.dyadicGreenCoefficients in Sources/Scattering/Fields.swift:
G(d) = alpha I + beta u u^T, u = d/|d|."""
import numpy as np


def dyadic_coefficients(d, k):
    """(alpha, beta, u) for separations d [..., 3] (|d| > 0) at wavenumber k (rad/m)."""
    r = np.linalg.norm(d, axis=-1)
    u = d / r[..., None]
    g = np.exp(-1j * k * r) / (4 * np.pi * r)
    ikr = 1.0 / (k * r)
    alpha = g * (1 - ikr**2 - 1j * ikr)
    beta = -g * (1 - 3 * ikr**2 - 3j * ikr)
    return alpha, beta, u
