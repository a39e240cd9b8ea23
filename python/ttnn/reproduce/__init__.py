"""``ttnn reproduce``: the paper's figures and their numbers (docs/maths/experiments.md).

``EXPERIMENTS`` maps a name to an :class:`Experiment`: ``compute(scale, seed,
target, progress, cache)`` returns ``(metrics, data)`` and ``plot(data, out)``
writes the figure files. To add an experiment, call :func:`register`;
``ttnn reproduce all`` (unless ``in_all=False``: experiments beyond the paper, such
as ``relu1d``, run only when named) and the CLI's choices pick it up. E1–E3 live in
:mod:`.experiments`, the additive E4/E5 in :mod:`.additive_experiments`.

:func:`run` computes the named experiments, writes their figures and
``metrics.json`` into ``out`` and prints the wall time of each. An ``out`` that
already holds results keeps them: the named experiments' entries are replaced,
the others' stay. One directory holds one scale, seed and target: a run with
another one is refused before anything is computed. The two-timescale
limit curves appear only when ``ttnn.two_timescale_limit`` exists (see
``experiments._limit_curve``).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import _validate as check
from .._io import write_json, write_text
from . import (
    additive_experiments,
    additive_figures,
    barboni_experiments,
    barboni_figures,
    experiments,
    figures,
    teacher_experiments,
)
from .claims import claims_table, wall_times_line


@dataclass(frozen=True)
class Experiment:
    compute: Callable[..., tuple[dict, Any]]
    plot: Callable[[Any, Path], list[Path]]
    description: str
    #: The experiment whose computation this one reuses (through ``run``'s cache), if any:
    #: its wall time then only counts the plotting.
    shares: str | None = None
    #: Whether ``"all"`` runs it: the paper's experiments do; those beyond the paper
    #: are listed and run by name, outside ``all``'s time budget.
    in_all: bool = True


EXPERIMENTS: dict[str, Experiment] = {}


def register(
    name: str,
    compute: Callable,
    plot: Callable,
    description: str,
    shares: str | None = None,
    in_all: bool = True,
) -> None:
    """Add an experiment to the registry (names must be new and not ``"all"``)."""
    if name == "all" or name in EXPERIMENTS:
        raise ValueError(f"experiment name {name!r} is reserved or already registered")
    EXPERIMENTS[name] = Experiment(compute, plot, description, shares, in_all)


register("fig3", experiments.fig3, figures.fig3, "E1: iterates of two-timescale SGD (+ GIF)")
register("fig4", experiments.fig4, figures.fig4, "E1: L2 error vs step, SGD vs limit", "fig3")
register("fig5", experiments.fig5, figures.fig5, "E2: standard regime (eps = 1) final fit")
register(
    "fig6",
    additive_experiments.fig6,
    additive_figures.fig6,
    "E4: 2-D neuron lines vs the target's grid, both regimes",
)
register("fig7", experiments.fig7, figures.fig7, "E3: final L2 error per eps, box plot")
register(
    "relu",
    additive_experiments.relu,
    additive_figures.relu,
    "E5: ReLU teacher, box plot and one fit per regime",
)
register(
    "d2",
    additive_experiments.d2,
    additive_figures.d2,
    "E4: 2-D box plots, both regimes",
    "fig6",
)
register("d10", additive_experiments.d10, additive_figures.d10, "E4: 10-D box plots, both regimes")
register(
    "relu1d",
    teacher_experiments.relu1d,
    teacher_experiments.plot_relu1d,
    "E5's ReLU teacher in 1-D as online SGD, both regimes (beyond the paper; not in 'all')",
    in_all=False,
)
register(
    "barboni2025",
    barboni_experiments.barboni2025,
    barboni_figures.plot,
    "Barboni et al. 2025, Sec. 6.1: circle model, VarPro vs 2TS vs the PDE (not in 'all')",
    in_all=False,
)


def resolve(names: Iterable[str]) -> list[str]:
    """Expand ``"all"`` (every experiment with ``in_all``) and check the names; keeps
    registry order, no duplicates."""
    names = list(names)
    unknown = [n for n in names if n != "all" and n not in EXPERIMENTS]
    if unknown:
        raise ValueError(
            f"unknown experiment(s) {unknown}; choose from {sorted(EXPERIMENTS)} or 'all'"
        )
    return [n for n, e in EXPERIMENTS.items() if n in names or ("all" in names and e.in_all)]


@contextmanager
def _writer_lock(out: Path) -> Iterator[None]:
    """Serialise the writing phase of runs into one directory (POSIX advisory
    lock on a hidden file; elsewhere only the atomic writes protect files)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover (Windows)
        yield
        return
    with open(out / ".ttnn-reproduce.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


#: What every experiment of one output directory shares (recorded in metrics.json).
SHARED = ("scale", "seed", "target")


def _existing(out: Path) -> dict[str, Any] | None:
    """The results already in ``out`` (its metrics.json), or None; ValueError for a
    metrics.json that ``run`` did not write (never overwritten blindly)."""
    path = out / "metrics.json"
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    try:
        old = json.loads(text)
    except ValueError:
        old = None
    if (
        not isinstance(old, dict)
        or not all(k in old for k in SHARED)
        or not isinstance(old.get("experiments"), dict)
        or not isinstance(old.get("wall_time_s"), dict)
    ):
        raise ValueError(
            f"{path} is not a metrics.json written by ttnn reproduce; choose another "
            "output directory, or remove that file"
        )
    return old


def _check_same(old: dict[str, Any] | None, asked: dict[str, Any], out: Path) -> None:
    """Refuse to mix scales (or seeds, or targets) in one directory: merged metrics
    would describe experiments run at different settings under one header."""
    if old is None:
        return
    differ = [k for k in SHARED if old[k] != asked[k]]
    if differ:
        held = ", ".join(f"{k} {old[k]!r}" for k in differ)
        wanted = ", ".join(f"{k} {asked[k]!r}" for k in differ)
        names = ", ".join(old["experiments"]) or "no experiment"
        raise ValueError(
            f"{out} holds results at {held} ({names}), not at {wanted}: one directory "
            "holds one scale, seed and target; choose another output directory "
            "(--out), or remove that one's metrics.json to start again"
        )


def run(
    names: Iterable[str],
    scale: str = "quick",
    out: str | Path = "reproduce-out",
    seed: int = 0,
    target: str = "code",
    progress: bool = False,
    verbose: bool = False,
) -> dict[str, Any]:
    """Run experiments, write figures, ``metrics.json`` and ``claims.md`` to ``out``.

    Returns the metrics of this run. When ``out`` already holds results (of the
    same ``scale``, ``seed`` and ``target``; other ones are a ValueError, raised
    before any work), ``metrics.json`` and ``claims.md`` are merged: the entries
    of the experiments run now are replaced, the others kept.

    ``progress`` shows tqdm bars; ``verbose`` prints what was written and the
    wall time of each experiment (the CLI turns both on).

    fig3 and fig4 share one E1 run, fig6 and d2 one E4 (d = 2) ensemble.
    ``metrics.json`` holds, per experiment, its settings, the per-run numbers
    (E1–E3: final L2 error and breaks covered, a neuron within 2η; E4/E5: final
    criterion and thresholds/kinks covered), medians (per ε for fig7, per regime
    for E4/E5), the figure files, and under ``wall_time_s`` the wall time of each
    experiment (the only entries that vary between runs).

    Every file is written atomically (``ttnn._io``); all experiments are computed
    before anything is written, and ``metrics.json`` is written last, so it
    always describes the figures beside it. Concurrent runs into one ``out``
    take turns to write (and merge).
    """
    todo = resolve(names)
    seed = check.integer("seed", seed, minimum=0, maximum=experiments.MAX_SEED)
    out = Path(out)
    if str(out) == "":
        raise ValueError("out must name a directory, got ''")
    out.mkdir(parents=True, exist_ok=True)
    if not os.access(out, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot write to {out}: permission denied")
    cache: dict = {}
    result: dict[str, Any] = dict(
        scale=scale, seed=seed, target=target, experiments={}, wall_time_s={}
    )
    _check_same(_existing(out), result, out)  # before minutes of work
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(todo, desc="reproduce", unit="exp")
    # Compute everything first, then write: the files of a run are written
    # together, under a lock, with metrics.json (seed and settings) last, so a
    # directory never mixes two runs' figures under one metrics.json.
    computed = {}
    for name in todo:
        if bar is not None:
            bar.set_postfix_str(name)
        start = time.perf_counter()
        computed[name] = EXPERIMENTS[name].compute(
            scale=scale, seed=seed, target=target, progress=progress, cache=cache
        )
        result["wall_time_s"][name] = time.perf_counter() - start
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    with _writer_lock(out):
        # Read again under the lock: another run may have written meanwhile.
        old = _existing(out)
        _check_same(old, result, out)
        kept = {k: v for k, v in (old or {}).get("experiments", {}).items() if k not in todo}
        if old is not None and len(kept) < len(old["experiments"]):
            # metrics.json must not describe the figures being rewritten: until they
            # are, it lists only the experiments kept (or is gone, if none is).
            if kept:
                stale = dict(old, experiments=kept)
                stale["wall_time_s"] = {k: v for k, v in old["wall_time_s"].items() if k in kept}
                write_json(out / "metrics.json", stale)
            else:
                (out / "metrics.json").unlink()
        for name in todo:
            start = time.perf_counter()
            metrics, data = computed[name]
            files = EXPERIMENTS[name].plot(data, out)
            metrics["files"] = [Path(f).name for f in files]
            result["experiments"][name] = metrics
            result["wall_time_s"][name] += time.perf_counter() - start
        merged = _merge(old, result)
        write_text(out / "claims.md", claims_table(merged) + "\n" + wall_times_line(merged) + "\n")
        write_json(out / "metrics.json", merged)
    if verbose:
        print(f"wrote {out / 'metrics.json'}, {out / 'claims.md'} and the figures")
        for name, t in result["wall_time_s"].items():
            shared = EXPERIMENTS[name].shares
            note = f" (reuses {shared}'s runs)" if shared in todo else ""
            print(f"{name}: {t:.2f} s{note}")
        print(f"total: {sum(result['wall_time_s'].values()):.2f} s")
    return result


def _merge(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """``new``'s experiments over ``old``'s, in the registry's order."""
    if old is None:
        return new
    merged = dict(new)
    for key in ("experiments", "wall_time_s"):
        both = {**old[key], **new[key]}
        merged[key] = {n: both[n] for n in [*EXPERIMENTS, *both] if n in both}
    return merged


__all__ = ["EXPERIMENTS", "Experiment", "register", "resolve", "run"]
