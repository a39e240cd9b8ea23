"""Type stubs of ttnn's private compiled core (use the ttnn package instead)."""

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

has_openmp: bool

def sigma_eta(z: NDArray[np.float64], eta: float, activation: str) -> NDArray[np.float64]: ...
def dsigma_eta(z: NDArray[np.float64], eta: float, activation: str) -> NDArray[np.float64]: ...

class PiecewiseConstant:
    def __init__(self, breaks: list[float], values: list[float]) -> None: ...
    @property
    def breaks(self) -> list[float]: ...
    @property
    def values(self) -> list[float]: ...
    def __call__(self, x: NDArray[np.float64]) -> NDArray[np.float64]: ...

class Network:
    def __init__(
        self, a: NDArray[np.float64], u: NDArray[np.float64], eta: float, activation: str
    ) -> None: ...
    @property
    def a(self) -> NDArray[np.float64]: ...
    @property
    def u(self) -> NDArray[np.float64]: ...
    @property
    def eta(self) -> float: ...
    @property
    def activation(self) -> str: ...
    def __call__(self, x: NDArray[np.float64]) -> NDArray[np.float64]: ...
    def gradient(self, x: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...

class Target:
    def __init__(self, target: PiecewiseConstant | Network) -> None: ...
    @property
    def breakpoints(self) -> list[float]: ...
    @property
    def degree(self) -> int: ...
    def __call__(self, x: NDArray[np.float64]) -> NDArray[np.float64]: ...

_AnyTarget = Target | PiecewiseConstant | Network

def l2_error(net: Network, target: _AnyTarget) -> float: ...
def l2_gradient(
    net: Network, target: _AnyTarget
) -> tuple[float, NDArray[np.float64], NDArray[np.float64]]: ...
def snapshot_steps(steps: int, snapshots: int) -> list[int]: ...
def sgd(
    net: Network,
    target: _AnyTarget | None,
    h: float,
    eps: float,
    steps: int,
    snapshots: int,
    noise: str,
    noise_scale: float,
    seed: int,
    x: NDArray[np.float64] | None = None,
    y: NDArray[np.float64] | None = None,
    batch: int = 1,
    epochs: int = 1,
    order: NDArray[np.int64] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]: ...
def sample_stream(
    target: _AnyTarget, noise: str, noise_scale: float, seed: int, stream: int, draws: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...
def sgd_ensemble(
    nets: list[Network],
    target: _AnyTarget | None,
    h: list[float],
    eps: list[float],
    steps: list[int],
    snapshots: int,
    noise: str,
    noise_scale: float,
    seeds: list[int],
    streams: list[int],
    threads: int,
    batch: list[int] = ...,
    x: list[NDArray[np.float64] | None] = ...,
    y: list[NDArray[np.float64] | None] = ...,
    epochs: list[int] = ...,
    order: list[NDArray[np.int64] | None] = ...,
    progress: Callable[[int, int], None] | None = None,
) -> list[dict[str, Any] | Exception]: ...
def gram_system(
    net: Network, target: _AnyTarget
) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...
def optimal_outer(net: Network, target: _AnyTarget, ridge: float) -> NDArray[np.float64]: ...
def solve_outer(
    net: Network, target: _AnyTarget, ridge: float
) -> tuple[NDArray[np.float64], float, bool]: ...
def gradient_flow(
    net: Network,
    target: _AnyTarget,
    eps: float,
    t_end: float,
    snapshots: int,
    rtol: float,
    atol: float,
    max_steps: int = 0,
    progress: Callable[[int, int], None] | None = None,
    method: str = "rk45",
) -> dict[str, Any]: ...
def finite_eta_limit(
    net: Network,
    target: _AnyTarget,
    tau_end: float,
    ridge: float,
    snapshots: int,
    rtol: float,
    atol: float,
    max_steps: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]: ...
def gradient_flow_ensemble(
    nets: list[Network],
    target: Target,
    eps: list[float],
    t_end: list[float],
    snapshots: int,
    rtol: float,
    atol: float,
    threads: int,
) -> list[dict[str, Any] | Exception]: ...
def finite_eta_limit_ensemble(
    nets: list[Network],
    target: Target,
    tau_end: list[float],
    ridge: float,
    snapshots: int,
    rtol: float,
    atol: float,
    threads: int,
) -> list[dict[str, Any] | Exception]: ...
