"""Type stubs of ttnn's private compiled core (use the ttnn package instead).

tests/test_core_stub.py holds this file to the module: the same public names,
and the same parameter names as pybind11's signatures.
"""

from collections.abc import Callable
from typing import overload

import numpy as np
from numpy.typing import NDArray

_F64 = NDArray[np.float64]
_I64 = NDArray[np.int64]
_Progress = Callable[[int, int], None] | None

has_openmp: bool

def sigma_eta(z: _F64, eta: float, activation: str) -> _F64: ...
def dsigma_eta(z: _F64, eta: float, activation: str) -> _F64: ...

# -- the results (read-only; arrays are read-only views that keep the result alive)

class OdeStats:
    @property
    def accepted(self) -> int: ...
    @property
    def rejected(self) -> int: ...
    @property
    def rhs_calls(self) -> int: ...

class SgdResult:
    @property
    def steps(self) -> _I64: ...
    @property
    def a(self) -> _F64: ...
    @property
    def u(self) -> _F64: ...
    @property
    def l2(self) -> _F64 | None: ...

class FlowResult:
    @property
    def t(self) -> _F64: ...
    @property
    def a(self) -> _F64: ...
    @property
    def u(self) -> _F64: ...
    @property
    def l2(self) -> _F64: ...
    @property
    def stats(self) -> OdeStats: ...
    @property
    def stiff_from(self) -> float: ...

class LimitResult:
    @property
    def tau(self) -> _F64: ...
    @property
    def a(self) -> _F64: ...
    @property
    def u(self) -> _F64: ...
    @property
    def l2(self) -> _F64: ...
    @property
    def cond(self) -> _F64: ...
    @property
    def stats(self) -> OdeStats: ...

class GdResult:
    @property
    def epochs(self) -> _I64: ...
    @property
    def a(self) -> _F64: ...
    @property
    def u(self) -> _F64: ...
    @property
    def bias(self) -> _F64: ...
    @property
    def criterion(self) -> _F64: ...

# -- the model

class PiecewiseConstant:
    def __init__(self, breaks: list[float], values: list[float]) -> None: ...
    @property
    def breaks(self) -> list[float]: ...
    @property
    def values(self) -> list[float]: ...
    def __call__(self, x: _F64) -> _F64: ...

class Network:
    def __init__(self, a: _F64, u: _F64, eta: float, activation: str) -> None: ...
    @property
    def a(self) -> _F64: ...
    @property
    def u(self) -> _F64: ...
    @property
    def eta(self) -> float: ...
    @property
    def activation(self) -> str: ...
    def __call__(self, x: _F64) -> _F64: ...
    def gradient(self, x: float) -> tuple[_F64, _F64]: ...

class Target:
    @overload
    def __init__(self, target: PiecewiseConstant) -> None: ...
    @overload
    def __init__(self, teacher: Network) -> None: ...
    @property
    def breakpoints(self) -> list[float]: ...
    @property
    def degree(self) -> int: ...
    def __call__(self, x: _F64) -> _F64: ...

_AnyTarget = Target | PiecewiseConstant | Network

class AdditiveNetwork:
    def __init__(
        self, a: _F64, u: _F64, eta: float, activation: str, bias: float | None = None
    ) -> None: ...
    @property
    def a(self) -> _F64: ...
    @property
    def u(self) -> _F64: ...
    @property
    def eta(self) -> float: ...
    @property
    def bias(self) -> float | None: ...
    @property
    def activation(self) -> str: ...
    def __call__(self, X: _F64) -> _F64: ...
    def criterion_gradient(
        self, X: _F64, y: _F64, loss: str = "norm"
    ) -> tuple[float, _F64, _F64, float]: ...

# -- the loss and the Gram system

def l2_error(net: Network, target: _AnyTarget, threads: int = 1) -> float: ...
def l2_gradient(net: Network, target: _AnyTarget, threads: int = 1) -> tuple[float, _F64, _F64]: ...
def gram_system(net: Network, target: _AnyTarget) -> tuple[_F64, _F64]: ...
def optimal_outer(net: Network, target: _AnyTarget, ridge: float) -> _F64: ...
def solve_outer(net: Network, target: _AnyTarget, ridge: float) -> tuple[_F64, float, bool]: ...

# -- the runs

def snapshot_steps(steps: int, snapshots: int) -> list[int]: ...
def sample_stream(
    target: _AnyTarget, noise: str, noise_scale: float, seed: int, stream: int, draws: int
) -> tuple[_F64, _F64]: ...
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
    x: _F64 | None = None,
    y: _F64 | None = None,
    batch: int = 1,
    epochs: int = 1,
    order: _I64 | None = None,
    progress: _Progress = None,
    threads: int = 1,
) -> SgdResult: ...
def sgd_kernel(net: Network, batch: int, threads: int) -> str: ...
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
    x: list[_F64 | None] | list[_F64] = ...,
    y: list[_F64 | None] | list[_F64] = ...,
    epochs: list[int] = ...,
    order: list[_I64 | None] = ...,
    progress: _Progress = None,
) -> list[SgdResult | BaseException]: ...
def shifted_gram_solve(net: Network, target: _AnyTarget, c: float, r: _F64) -> _F64: ...
def dense_lu(a: _F64, b: _F64) -> tuple[_F64, list[int], _F64]: ...
def gradient_flow(
    net: Network,
    target: _AnyTarget,
    eps: float,
    t_end: float,
    snapshots: int,
    rtol: float,
    atol: float,
    max_steps: int = 0,
    progress: _Progress = None,
    method: str = "auto",
    threads: int = 1,
) -> FlowResult: ...
def finite_eta_limit(
    net: Network,
    target: _AnyTarget,
    tau_end: float,
    ridge: float,
    snapshots: int,
    rtol: float,
    atol: float,
    max_steps: int = 0,
    progress: _Progress = None,
    method: str = "auto",
) -> LimitResult: ...
def gradient_flow_ensemble(
    nets: list[Network],
    target: Target,
    eps: list[float],
    t_end: list[float],
    snapshots: int,
    rtol: float,
    atol: float,
    max_steps: int,
    threads: int,
    progress: _Progress = None,
    method: str = "auto",
) -> list[FlowResult | BaseException]: ...
def finite_eta_limit_ensemble(
    nets: list[Network],
    target: Target,
    tau_end: list[float],
    ridge: float,
    snapshots: int,
    rtol: float,
    atol: float,
    max_steps: int,
    threads: int,
    progress: _Progress = None,
    method: str = "auto",
) -> list[LimitResult | BaseException]: ...
def additive_gd(
    net: AdditiveNetwork,
    X: _F64,
    y: _F64,
    step_a: float,
    step_u: float,
    epochs: int,
    snapshots: int,
    loss: str = "norm",
    progress: _Progress = None,
) -> GdResult: ...
def additive_gd_ensemble(
    nets: list[AdditiveNetwork],
    X: list[_F64],
    y: list[_F64],
    step_a: list[float],
    step_u: list[float],
    epochs: list[int],
    snapshots: int,
    threads: int,
    loss: str = "norm",
    progress: _Progress = None,
) -> list[GdResult | BaseException]: ...

# -- the circle model (docs/maths/circle.md): private core, no public API yet

class CircleResult:
    @property
    def iterations(self) -> _I64: ...
    @property
    def theta(self) -> _F64: ...
    @property
    def u(self) -> _F64: ...
    @property
    def criterion(self) -> _F64: ...
    @property
    def risk(self) -> _F64: ...
    @property
    def mmd_teacher(self) -> _F64: ...
    @property
    def w1_teacher(self) -> _F64: ...
    @property
    def mmd_density(self) -> _F64 | None: ...
    @property
    def cg_iterations(self) -> int: ...

class CirclePdeResult:
    @property
    def t(self) -> _F64: ...
    @property
    def f(self) -> _F64: ...
    @property
    def mass(self) -> _F64: ...
    @property
    def accepted(self) -> int: ...
    @property
    def rejected(self) -> int: ...
    @property
    def rhs_calls(self) -> int: ...

class CircleProblem:
    def __init__(self, teacher: _F64, X: _F64 | None = None) -> None: ...
    @property
    def population(self) -> bool: ...
    @property
    def n_samples(self) -> int: ...
    @property
    def teacher(self) -> _F64: ...
    @property
    def y(self) -> _F64: ...
    @property
    def y_square(self) -> float: ...
    def predict(self, theta: _F64, u: _F64) -> _F64: ...
    def phi_t_y(self, theta: _F64) -> _F64: ...
    def k_times(self, theta: _F64, v: _F64) -> _F64: ...
    def evaluate(
        self, theta: _F64, u: _F64, lam: float, biased: bool = False
    ) -> tuple[float, float, _F64, _F64]: ...
    def ridge(
        self, theta: _F64, lam: float, biased: bool = False, u0: _F64 | None = None
    ) -> tuple[_F64, int]: ...
    def step(
        self,
        theta: _F64,
        u: _F64,
        method: str,
        lam: float,
        biased: bool = False,
        dt: float = ...,
    ) -> tuple[_F64, _F64, _F64, float]: ...

def circle_rho(theta: _F64, gamma: float) -> _F64: ...
def circle_rho_cell_masses(cells: int, gamma: float) -> _F64: ...
def circle_sample_rho(count: int, gamma: float, seed: int, stream: int = 0) -> _F64: ...
def circle_uniform_angles(count: int, seed: int, stream: int = 0) -> _F64: ...
def circle_gaussian_inputs(n: int, seed: int, stream: int = 0) -> _F64: ...
def circle_arccos_kernel(delta: _F64) -> _F64: ...
def circle_run(
    problem: CircleProblem,
    theta0: _F64,
    lam: float,
    method: str,
    biased: bool,
    iterations: int,
    record: list[int],
    dt: float = ...,
    density: _F64 | None = None,
    progress: _Progress = None,
) -> CircleResult: ...
def circle_run_ensemble(
    problems: list[CircleProblem],
    theta0: list[_F64],
    lam: list[float],
    method: list[str],
    biased: bool,
    iterations: int,
    record: list[int],
    dt: float = ...,
    density: _F64 | None = None,
    threads: int = 0,
    progress: _Progress = None,
) -> list[CircleResult | BaseException]: ...
def circle_mmd(a: _F64, b: _F64, wa: _F64 | None = None, wb: _F64 | None = None) -> float: ...
def circle_chord_sum(a: _F64, b: _F64, wa: _F64 | None = None, wb: _F64 | None = None) -> float: ...
def circle_w1(a: _F64, b: _F64, wa: _F64 | None = None, wb: _F64 | None = None) -> float: ...
def circle_w2(a: _F64, b: _F64) -> float: ...
def circle_cell_centres(cells: int) -> _F64: ...
def circle_pde(
    cells: int,
    gamma: float,
    times: list[float],
    rtol: float = 1e-06,
    atol: float = 1e-09,
    max_steps: int = 0,
    progress: _Progress = None,
) -> CirclePdeResult: ...
def circle_pde_rhs(f: _F64, fstar: _F64) -> _F64: ...
def circle_pde_jacobian(f: _F64, fstar: _F64) -> tuple[_F64, _F64, _F64]: ...
def circle_cyclic_solve(sub: _F64, diag: _F64, sup: _F64, x: _F64) -> _F64: ...
