"""What every result holding snapshots of one univariate network shares."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ._result import Result
from .network import Network


class Trajectory(Result, register=False):
    """Mixin for results with snapshots ``a[k]``, ``u[k]`` of a network (η, activation).

    Gives SGD, the gradient flow and the limits the same ``final`` and ``network(k)``.
    """

    a: NDArray[np.float64]
    u: NDArray[np.float64]
    eta: float
    activation: str

    @property
    def final(self) -> Network:
        """The network at the last snapshot."""
        return self.network(-1)

    def network(self, k: int) -> Network:
        """The network at snapshot k."""
        return Network(self.a[k], self.u[k], self.eta, self.activation)
