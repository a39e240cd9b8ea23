"""Ctrl-C reaches the exact loss, its gradient and sample_stream (issue 23): a real SIGINT
to a real subprocess, as in tests/test_interrupt.py. The bound of 1 s after the signal is
behaviour ("it stops"), not speed: before, one relu l2_gradient at m = 10⁵ ran 36 s past
the signal and sample_stream(2·10⁸) to its end (here a slow teacher stands in for its 3 GB);
each now polls every few thousand pieces or 2¹⁶ draws (docs/guide/errors.md)."""

import pytest
from _sigint import assert_stops_within_a_second

# Calls repeated until interrupted: the signal lands inside one of them (most of the
# child's time is spent in the core, without the GIL).
LONG_CALLS = {
    "l2_error, cubic, m = 10^5": (
        "net = ttnn.Network.init(10**5, 4e-3, seed=0)",
        "while True: ttnn.l2_error(net, T)",
    ),
    "l2_gradient, relu, m = 10^5, 2 threads": (
        "net = ttnn.Network(np.ones(10**5 + 1), ttnn.Network.init(10**5, 4e-3).u, 4e-3, 'relu')",
        "while True: ttnn.l2_gradient(net, T, threads=2)",
    ),
    "l2_error, relu teacher, m = 10^5": (
        "net = ttnn.Network.init(10**5, 4e-3, seed=0, activation='relu')\n"
        "teacher = ttnn.Network(np.ones(10**5 + 1), net.u[::-1].copy(), 4e-3, 'relu')",
        "while True: ttnn.l2_error(net, teacher)",
    ),
    # Short core calls (well under the monitor's 50 ms between checks) consumed by C code,
    # with no bytecode between them: a Ctrl-C that lands inside a call must be raised by
    # that call, since no eval-breaker runs before the next one (cpp/bindings/interrupt.hpp).
    "_core.l2_error called back to back from C, m = 1000": (
        "from collections import deque\n"
        "from functools import partial\n"
        "from itertools import repeat\n"
        "from ttnn.target import core_target\n"
        "net = ttnn.Network.init(1000, 4e-3, seed=0)\n"
        "call = partial(ttnn._core.l2_error, target=core_target(T), threads=1)",
        "deque(map(call, repeat(net._c)), maxlen=0)",
    ),
    # A teacher of 1000 neurons makes each draw ~1 µs: 10⁷ draws (160 MB) take ~10 s.
    "sample_stream, 10^7 draws": (
        "teacher = ttnn.Network(np.ones(1001), ttnn.Network.init(1000, 0.01).u, 0.01)",
        "ttnn.sample_stream(teacher, 10**7)",
    ),
}


@pytest.mark.parametrize("case", list(LONG_CALLS))
def test_sigint_stops_the_loss_within_a_second(case):
    assert_stops_within_a_second(*LONG_CALLS[case], wait=1.0, what=case)
