"""ttnn: fast, exact simulation of shallow networks in the two-timescale regime.

Marion & Berthier, *Leveraging the two-timescale regime to demonstrate
convergence of neural networks*, NeurIPS 2023. All losses are ∫ (f* − f)²,
without a factor ½, as in the authors' code.
"""

from . import circle, plot
from ._errors import DivergenceError, IllConditionedWarning, StepLimitError
from ._result import load
from ._sweep.engine import sweep
from ._version import __version__ as __version__
from .activation import ACTIVATIONS
from .additive import AdditiveNetwork, GDResult, full_batch_gd, full_batch_gd_ensemble
from .diagnostics import breaks_covered, neurons_outside
from .flow import FlowResult, gradient_flow
from .limits import LimitResult, two_timescale_limit
from .loss import l2_error, l2_gradient
from .network import Network
from .noise import GaussianNoise, UniformNoise
from .sgd import SGDResult, sample_stream, sgd, sgd_ensemble, shuffle_order, snapshot_steps
from .target import PiecewiseConstant, Target


def __getattr__(name: str) -> object:
    # ``ttnn.reproduce`` (figures, hence matplotlib) is imported on first use only,
    # so that ``import ttnn`` stays light and leaves matplotlib alone.
    if name == "reproduce":
        import importlib

        return importlib.import_module(".reproduce", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), "reproduce"])


__all__ = [
    "IllConditionedWarning",
    "StepLimitError",
    "ACTIVATIONS",
    "AdditiveNetwork",
    "DivergenceError",
    "FlowResult",
    "GDResult",
    "GaussianNoise",
    "LimitResult",
    "Network",
    "PiecewiseConstant",
    "SGDResult",
    "Target",
    "UniformNoise",
    "breaks_covered",
    "circle",
    "full_batch_gd",
    "full_batch_gd_ensemble",
    "gradient_flow",
    "l2_error",
    "l2_gradient",
    "load",
    "neurons_outside",
    "plot",
    "sample_stream",
    "sgd",
    "sgd_ensemble",
    "shuffle_order",
    "snapshot_steps",
    "sweep",
    "two_timescale_limit",
]
