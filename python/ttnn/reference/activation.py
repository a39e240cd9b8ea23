"""The activation sigma, its derivative, and their width-eta versions
(docs/maths/model.md#activations).

The paper's activation ("cubic") is

    sigma(z) = 0                     for z <= -1/2,
               4 (z + 1/2)^3         on [-1/2, 0],
               1 - 4 (1/2 - z)^3     on [0, 1/2],
               1                     for z >= 1/2,

which is C^1 and non-decreasing with sigma'(z) = 12 (z + 1/2)^2 on [-1/2, 0],
12 (1/2 - z)^2 on [0, 1/2], 0 elsewhere, and integral of sigma' equal to 1.
"ramp" is sigma(z) = clip(z + 1/2, 0, 1) (the authors' first version) and "relu" is
max(z, 0) (used in the paper's appendix).

With a width eta > 0: sigma_eta(z) = sigma(z / eta) and sigma'_eta(z) = sigma'(z / eta) / eta
for "cubic" and "ramp"; for "relu", sigma_eta(z) = max(z, 0) and sigma'_eta(z) = 1[z > 0],
independent of eta.

All functions are vectorised: they accept a scalar or an array and return a float64 array
of the same shape (0-d for a scalar).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

ACTIVATIONS: tuple[str, ...] = ("cubic", "ramp", "relu")


def check_activation(activation: str) -> str:
    """Return ``activation`` if it is one of :data:`ACTIVATIONS`, else raise ``ValueError``."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    return activation


def _check_eta(eta: float) -> float:
    """Return ``eta`` as a float if it is finite and > 0, else raise ``ValueError``."""
    eta = float(eta)
    if not (np.isfinite(eta) and eta > 0.0):
        raise ValueError(f"eta must be finite and > 0, got {eta!r}")
    return eta


def sigma(z: ArrayLike, activation: str = "cubic") -> NDArray[np.float64]:
    """The unscaled activation sigma(z) (docs/maths/model.md#activations).

    cubic: 0 for z <= -1/2; 4 (z + 1/2)^3 on [-1/2, 0]; 1 - 4 (1/2 - z)^3 on [0, 1/2];
    1 for z >= 1/2.  ramp: clip(z + 1/2, 0, 1).  relu: max(z, 0).
    """
    check_activation(activation)
    z = np.asarray(z, dtype=np.float64)
    if activation == "cubic":
        # Clipping to [-1/2, 1/2] gives exactly 0 below and 1 above the transition
        # (the two polynomials take those values at the ends) and avoids overflow.
        zc = np.clip(z, -0.5, 0.5)
        left = 4.0 * (zc + 0.5) ** 3
        right = 1.0 - 4.0 * (0.5 - zc) ** 3
        return np.where(zc <= 0.0, left, right)
    if activation == "ramp":
        return np.clip(z + 0.5, 0.0, 1.0)
    return np.maximum(z, 0.0)  # relu


def dsigma(z: ArrayLike, activation: str = "cubic") -> NDArray[np.float64]:
    """The derivative sigma'(z) of the unscaled activation (docs/maths/model.md#activations).

    cubic: 12 (z + 1/2)^2 on [-1/2, 0], 12 (1/2 - z)^2 on [0, 1/2], 0 elsewhere.
    ramp: 1 on the open interval (-1/2, 1/2), 0 elsewhere.  relu: 1 for z > 0, else 0.
    """
    check_activation(activation)
    z = np.asarray(z, dtype=np.float64)
    if activation == "cubic":
        # Both polynomials vanish at the clipped ends z = -1/2 and z = 1/2.
        zc = np.clip(z, -0.5, 0.5)
        left = 12.0 * (zc + 0.5) ** 2
        right = 12.0 * (0.5 - zc) ** 2
        return np.where(zc <= 0.0, left, right)
    if activation == "ramp":
        return np.where((z > -0.5) & (z < 0.5), 1.0, 0.0)
    return np.where(z > 0.0, 1.0, 0.0)  # relu


def sigma_eta(z: ArrayLike, eta: float, activation: str = "cubic") -> NDArray[np.float64]:
    """The width-eta activation sigma_eta(z) (docs/maths/model.md#activations).

    sigma_eta(z) = sigma(z / eta) for cubic and ramp; max(z, 0) for relu (eta unused).
    """
    check_activation(activation)
    eta = _check_eta(eta)
    z = np.asarray(z, dtype=np.float64)
    if activation == "relu":
        return sigma(z, "relu")
    return sigma(z / eta, activation)


def dsigma_eta(z: ArrayLike, eta: float, activation: str = "cubic") -> NDArray[np.float64]:
    """The derivative sigma'_eta(z) of the width-eta activation (docs/maths/model.md#activations).

    sigma'_eta(z) = sigma'(z / eta) / eta for cubic and ramp; 1[z > 0] for relu (eta unused).
    """
    check_activation(activation)
    eta = _check_eta(eta)
    z = np.asarray(z, dtype=np.float64)
    if activation == "relu":
        return dsigma(z, "relu")
    return dsigma(z / eta, activation) / eta
