"""Peak memory of the core's large allocations, per unit: the numbers behind the
memory guards of python/ttnn/_validate.py (``memory``, ``batch``, ...).

Each case runs in a fresh child process and reports its peak RSS
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``) at two sizes; the guard's
constant is the slope, (peak₂ − peak₁) / (size₂ − size₁), which removes the
interpreter's own ~60–100 MB. Run from the repository root:

    PYTHONPATH=python python tools/measure_memory.py

It takes about a minute; the slopes it printed are quoted where the guards use them.
"""

from __future__ import annotations

import subprocess
import sys

CASES: dict[str, tuple[str, list[int]]] = {
    # SGD with mini-batches of B samples (2 steps, so the batch buffers dominate).
    "mini-batch (bytes per sample)": (
        "import ttnn; net = ttnn.Network.init(m=20, eta=0.01)\n"
        "ttnn.sgd(net, ttnn.PiecewiseConstant.paper(), h=1e-3, steps=2, batch={n})",
        [2_000_000, 8_000_000],
    ),
    # A network of m neurons built with Network.init, then evaluated once.
    "Network.init (bytes per neuron)": (
        "import ttnn; net = ttnn.Network.init(m={n}, eta=0.01); net(0.5)",
        [1_000_000, 4_000_000],
    ),
    # SGD of a network of m neurons (2 steps, 2 snapshots): the run's working set.
    # m·η = 4 as at the paper's scale (the store and windows depend on it).
    "sgd (bytes per neuron)": (
        "import numpy as np, ttnn; net = ttnn.Network(np.zeros({n} + 1), "
        "np.linspace(0, 1, {n}), 4 / {n})\n"
        "ttnn.sgd(net, ttnn.PiecewiseConstant.paper(), h=1e-3, steps=2)",
        [1_000_000, 4_000_000],
    ),
    # Gradient flow (Dormand–Prince) of m neurons, 2 snapshots, a few steps.
    "rk45 flow (bytes per neuron)": (
        "import numpy as np, ttnn; net = ttnn.Network(np.zeros({n} + 1), "
        "np.linspace(0, 1, {n}), 4 / {n})\n"
        "ttnn.gradient_flow(net, ttnn.PiecewiseConstant.paper(), 1.0, 1e-12, snapshots=2)",
        [200_000, 800_000],
    ),
    # Full-batch GD of an additive network: n points in d = 4 dimensions, m = 10.
    "full_batch_gd (bytes per point·dim)": (
        "import numpy as np, ttnn; rng = np.random.default_rng(0)\n"
        "net = ttnn.AdditiveNetwork.init_paper(4, 10)\n"
        "X = rng.random(({n}, 4)); y = rng.random({n})\n"
        "ttnn.full_batch_gd(net, X, y, step_a=1e-3, step_u=1e-3, epochs=1)",
        [250_000, 1_000_000],
    ),
    # Finite-η relu limit (dense m × m Gram system), one short slow-time span.
    "relu limit (bytes per neuron²)": (
        "import numpy as np, ttnn\n"
        "net = ttnn.Network(np.zeros({n} + 1), np.linspace(0, 1, {n}), 0.01, 'relu')\n"
        "ttnn.two_timescale_limit(net, ttnn.PiecewiseConstant.paper(), 1e-9, snapshots=2)",
        [300, 900],
    ),
    # Gradient flow by the dense Rosenbrock method ((2m+1)² Jacobian and its LU).
    "rosenbrock flow (bytes per neuron²)": (
        "import numpy as np, ttnn\n"
        "net = ttnn.Network(np.zeros({n} + 1), np.linspace(0, 1, {n}), 0.01)\n"
        "ttnn.gradient_flow(net, ttnn.PiecewiseConstant.paper(), 1.0, 1e-9, snapshots=2,"
        " method='rosenbrock')",
        [300, 900],
    ),
}

PEAK = "\nimport resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)"


def peak(code: str) -> int:
    out = subprocess.run(
        [sys.executable, "-c", code + PEAK], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return int(out.stdout.split()[-1])


def main() -> None:
    only = sys.argv[1:]
    for name, (code, sizes) in CASES.items():
        if only and not any(o in name for o in only):
            continue
        quad = "²" in name
        (n1, n2) = sizes
        per = 4 if "dim" in name else 1
        p1, p2 = peak(code.format(n=n1)), peak(code.format(n=n2))
        units = (n2**2 - n1**2) if quad else (n2 - n1) * per
        print(
            f"{name}: {(p2 - p1) / units:.1f}  (peaks {p1 / 2**20:.0f} MiB at {n1}, "
            f"{p2 / 2**20:.0f} MiB at {n2})"
        )


if __name__ == "__main__":
    main()
