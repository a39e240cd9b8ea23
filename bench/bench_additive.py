"""Micro-benchmark of full-batch GD of the additive network (docs/maths/additive.md, E4 at d = 10).

Prints the median time per epoch at d = 10, n = 1e4, m = 10 (cubic, η = 1e-2; relu for
comparison), one epoch of the NumPy reference, and the threads=1 vs threads=2 time of a
small ensemble, from which the cost of the paper's 10-D run (20 repeats × 5000
two-timescale epochs, plus 20 × 300 standard ones) on 2 threads is estimated.
Usage: python bench/bench_additive.py
"""

from __future__ import annotations

from functools import partial

import numpy as np
from _common import median_time, timed

import ttnn
from ttnn import reference as ref

C = np.array([0.3, 0.5, 0.7])


def main() -> None:
    d, n, m = 10, 10_000, 10
    X = np.random.default_rng(0).random((n, d))
    y = (X[:, :, None] > C).sum(axis=(1, 2)).astype(float)
    net = ttnn.AdditiveNetwork.init_paper(d, m, 1e-2, seed=0)
    relu = ttnn.AdditiveNetwork(net.a / 30, net.u, net.eta, "relu")
    per_epoch = {}
    for name, nt, epochs in (("cubic", net, 2000), ("relu", relu, 100)):
        run = partial(ttnn.full_batch_gd, nt, X, y, step_a=1.0, step_u=0.01, epochs=epochs)
        per_epoch[name] = median_time(run, 3) / epochs
        print(f"{name}: {per_epoch[name] * 1e3:.3f} ms/epoch (median of 3)")
    t, _ = timed(lambda: ref.additive_gd_epoch(net.a, net.u, net.eta, X, y, 1.0, 0.01))
    print(f"NumPy reference (cubic): {t * 1e3:.1f} ms/epoch")

    nets = [ttnn.AdditiveNetwork.init_paper(d, m, 1e-2, seed=s) for s in range(4)]
    wall = {}
    for threads in (1, 2):
        wall[threads], _ = timed(
            lambda threads=threads: ttnn.full_batch_gd_ensemble(
                nets, X, y, step_a=1.0, step_u=0.01, epochs=1000, threads=threads
            )
        )
        print(f"4 repeats × 1000 epochs, threads={threads}: {wall[threads]:.2f} s")
    per_epoch_2 = wall[2] / 4000
    est = 20 * (5000 + 300) * per_epoch_2
    print(f"estimated paper 10-D run (20 × (5000 + 300) epochs) on 2 threads: {est:.0f} s")


if __name__ == "__main__":
    main()
