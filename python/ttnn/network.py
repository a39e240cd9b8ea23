"""The shallow network f(x; a, u) = a_0 + Σ_j a_j σ_η(x − u_j) (docs/maths/model.md#the-network)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core
from . import _guard as guard
from . import _validate as check
from .activation import check_activation


class Network:
    """An immutable univariate shallow network with m neurons and a bias.

    ``a`` has m + 1 entries (``a[0]`` is the bias a_0), ``u`` has m (the
    neurons' positions), ``eta`` is the width η of σ_η(z) = σ(z/η).
    """

    def __init__(self, a: ArrayLike, u: ArrayLike, eta: float, activation: str = "cubic"):
        u_arr = check.vector("u", u)
        a_arr = check.vector("a", a)
        if a_arr.shape[0] != u_arr.shape[0] + 1:
            raise ValueError(
                f"a must have len(u) + 1 = {u_arr.shape[0] + 1} entries (a[0] is the bias), "
                f"got {a_arr.shape[0]}"
            )
        eta_f = check.real("eta", eta, positive=True)
        act = check_activation(activation)
        a_arr.flags.writeable = False
        u_arr.flags.writeable = False
        self._a, self._u, self._eta, self._activation = a_arr, u_arr, eta_f, act
        self._c = _core.Network(a=a_arr, u=u_arr, eta=eta_f, activation=act)

    @classmethod
    def init(cls, m: int, eta: float, seed: int = 0, activation: str = "cubic") -> Network:
        """The paper's initialisation: a = 0, u_j i.i.d. U[0, 1) sorted.

        The positions come from ``numpy.random.default_rng(seed)``.
        """
        m_i = check.integer("m", m, minimum=1)
        # u, its sorted copy, a, the checked copies and the core's: ~8 doubles a neuron.
        guard.memory(f"Network.init with m = {m_i}", 64 * m_i)
        s = check.seed("seed", seed)
        u = np.sort(np.random.default_rng(s).random(m_i))
        return cls(np.zeros(m_i + 1), u, eta, activation)

    @property
    def a(self) -> NDArray[np.float64]:
        return self._a

    @property
    def u(self) -> NDArray[np.float64]:
        return self._u

    @property
    def eta(self) -> float:
        return self._eta

    @property
    def activation(self) -> str:
        return self._activation

    @property
    def m(self) -> int:
        return int(self._u.shape[0])

    def replace(self, *, a: ArrayLike | None = None, u: ArrayLike | None = None) -> Network:
        """A copy with new parameters (same η and activation)."""
        return Network(
            self._a if a is None else a, self._u if u is None else u, self._eta, self._activation
        )

    def __call__(self, x: ArrayLike) -> NDArray[np.float64]:
        arr = check.points("x", x)
        return np.asarray(self._c(arr.ravel())).reshape(arr.shape)

    def gradient(self, x: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(∂f/∂a, ∂f/∂u) at one input x: 1, σ_η(x − u_j) and −a_j σ′_η(x − u_j)."""
        ga, gu = self._c.gradient(check.real("x", x))
        return np.asarray(ga), np.asarray(gu)

    def __repr__(self) -> str:
        return f"Network(m={self.m}, eta={self._eta}, activation={self._activation!r})"

    def __eq__(self, other: object) -> bool:
        """Same parameters (exactly), η and activation."""
        if not isinstance(other, Network):
            return NotImplemented
        return (
            self._eta == other._eta
            and self._activation == other._activation
            and np.array_equal(self._a, other._a)
            and np.array_equal(self._u, other._u)
        )

    def __hash__(self) -> int:
        # Coarse but consistent with __eq__ (0.0 == -0.0, so no hashing of bytes).
        return hash((Network, self.m, self._eta, self._activation))

    def __reduce__(self) -> tuple[type[Network], tuple[object, ...]]:
        # The compiled twin (self._c) cannot be pickled: rebuild it from the parameters.
        return (Network, (self._a, self._u, self._eta, self._activation))
