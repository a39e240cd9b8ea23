"""ttnn.reference: the plain NumPy oracle for ttnn.

This package is a pure-NumPy implementation of every equation of the model and the
online SGD dynamics (docs/maths/model.md, docs/maths/dynamics.md).  It mirrors the C++
core equation by equation, one concept per module, and is what the tests hold the C++ core against.
It is written for clarity and is slow by design: do not use it for real runs.

Conventions: a has length m + 1 with a[0] the bias, u has length m; the losses carry no
factor 1/2 (per sample (y - f(x))^2, population int_0^1 (f* - f)^2).

Modules:
    activation  sigma, sigma', sigma_eta, sigma'_eta for "cubic", "ramp", "relu"
    target      the target f*: piecewise constant, or a Teacher network
    network     the network f(x; a, u) and its per-sample gradient
    loss        the exact L2 loss, its gradient and the Gram system (G, b)
    flow        the gradient flow's right-hand side
    limits      the two-timescale limits' right-hand sides and L*(u)
    local_basis a*(u) through the banded local basis (H c = beta) of cubic and ramp
    sgd         one online SGD step, a replay loop and the snapshot schedule
    additive    the additive multi-D network of E4/E5, its criterion, gradient, GD epoch
"""

from .activation import ACTIVATIONS, check_activation, dsigma, dsigma_eta, sigma, sigma_eta
from .additive import (
    additive_criterion,
    additive_forward,
    additive_gd_epoch,
    additive_gradient,
)
from .flow import flow_rhs
from .limits import finite_eta_rhs, limit_outer, optimal_outer, zero_eta_loss, zero_eta_pair_rhs
from .local_basis import local_system, optimal_outer_banded, shifted_gram_solve
from .loss import breakpoints, gauss_legendre_nodes, gram_system, l2_error, l2_gradient
from .network import features, forward, sample_gradient
from .sgd import sgd_batch_step, sgd_replay, sgd_step, snapshot_steps
from .target import Teacher, target_eval, target_points

__all__ = [
    "ACTIVATIONS",
    "additive_criterion",
    "additive_forward",
    "additive_gd_epoch",
    "additive_gradient",
    "breakpoints",
    "check_activation",
    "dsigma",
    "dsigma_eta",
    "features",
    "finite_eta_rhs",
    "limit_outer",
    "flow_rhs",
    "forward",
    "gauss_legendre_nodes",
    "gram_system",
    "l2_error",
    "local_system",
    "l2_gradient",
    "optimal_outer",
    "optimal_outer_banded",
    "sample_gradient",
    "sgd_batch_step",
    "sgd_replay",
    "sgd_step",
    "shifted_gram_solve",
    "sigma",
    "sigma_eta",
    "snapshot_steps",
    "Teacher",
    "target_eval",
    "target_points",
    "zero_eta_loss",
    "zero_eta_pair_rhs",
]
