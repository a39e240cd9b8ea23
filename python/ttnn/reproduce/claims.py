"""The paper's claims next to what a reproduction measured, as a Markdown table.

Every number comes from the ``metrics.json`` that ``ttnn reproduce`` wrote; the
middle column paraphrases the claims as docs/maths/experiments.md states them (no numbers from
the paper). ``run`` writes the table as ``claims.md`` beside ``metrics.json``; the
README shows the one of the committed paper-scale run (a test keeps them equal).
"""

from __future__ import annotations

from typing import Any

HEADER = "| Claim | What the paper shows | What this reproduction shows |\n|---|---|---|\n"


def _g(x: float) -> str:
    return f"{x:.2g}" if abs(x) < 1e-3 else f"{x:.3g}"


def _e1_rows(e: dict[str, Any]) -> list[str]:
    run, s = e["runs"][0], e["settings"]
    rows = []
    if "sgd_vs_limit" in e:
        d = e["sgd_vs_limit"]
        rows.append(
            "| E1 (Fig. 3, 4): SGD in the two-timescale regime tracks the two-timescale limit "
            "| SGD's iterates and L2-error curve follow the limit's "
            f"| over the {s['snapshots']} snapshots, neurons within "
            f"{_g(d['max_neuron_distance'])} of the limit's (max over j and snapshots); "
            f"L2 curves: median gap {_g(d['median_log10_l2_gap'])} decades "
            f"(max {_g(d['max_log10_l2_gap'])}); final ∫(f_SGD − f_lim)² = "
            f"{d['final_function_l2_distance']:.2g} |"
        )
    limit = f" (limit: {_g(e['limit_final_l2'])})" if "limit_final_l2" in e else ""
    rows.append(
        "| E1: SGD ends with every break flanked by neurons and a small L2 error (of order η) "
        "| all five breaks covered, small final error "
        f"| {run['breaks_covered']}/{len(run['breaks_covered_each'])} breaks covered; "
        f"final L2 error {_g(run['final_l2'])}{limit}, η = {s['eta']:g}, "
        f"after {s['steps']:.3g} steps |"
    )
    return rows


def _e2_row(e: dict[str, Any], e1: dict[str, Any] | None) -> str:
    run = e["runs"][0]
    vs = f" ({run['final_l2'] / e1['runs'][0]['final_l2']:.0f}× E1's)" if e1 else ""
    return (
        "| E2 (Fig. 5): in the standard regime (ε = 1) the error stays far higher, breaks left "
        "uncovered | neurons pile up or leave the domain, the loss plateaus high "
        f"| final L2 error {_g(run['final_l2'])}{vs}; "
        f"{run['breaks_covered']}/{len(run['breaks_covered_each'])} breaks covered |"
    )


def _e3_row(e: dict[str, Any]) -> str:
    per = e["per_eps"]
    keys = sorted(per, key=float, reverse=True)
    med = ", ".join(f"{_g(per[k]['median_final_l2'])} (ε = {float(k):g})" for k in keys)
    cov = ", ".join(f"{per[k]['frac_all_covered']:.0%}" for k in keys)
    return (
        "| E3 (Fig. 7): the final error falls as ε falls "
        "| box plot of the final L2 error per ε, decreasing with ε "
        f"| median final L2 error ({e['settings']['repeats']} repeats) {med}; "
        f"runs with every break covered: {cov} |"
    )


def _additive_row(claim: str, shows: str, e: dict[str, Any], what: str) -> str:
    st, tt = e["per_regime"]["standard"], e["per_regime"]["two_timescale"]
    p, s = e["paired"], e["settings"]
    total = s["d"] * len(s["kinks"])
    return (
        f"| {claim} | {shows} | two-timescale vs standard, {s['repeats']} repeats: {what} "
        f"covered {tt['mean_frac_covered']:.3g} vs {st['mean_frac_covered']:.3g} "
        f"(mean fraction); all {total} covered in {tt['frac_runs_all_covered']:.0%} vs "
        f"{st['frac_runs_all_covered']:.0%} of runs; median final criterion "
        f"{_g(tt['median_final_criterion'])} vs {_g(st['median_final_criterion'])}; "
        f"the two-timescale run covers more in {p['two_timescale_covers_more']}/{s['repeats']} "
        f"pairs ({p['equal']} equal, {p['standard_covers_more']} fewer) and ends lower in "
        f"{p['two_timescale_lower_criterion']}/{s['repeats']} |"
    )


def claims_table(metrics: dict[str, Any]) -> str:
    """The Markdown table for the experiments present in ``metrics`` (as in metrics.json)."""
    ex = metrics["experiments"]
    rows: list[str] = []
    e1 = ex.get("fig3") or ex.get("fig4")
    if e1:
        rows += _e1_rows(e1)
    if "fig5" in ex:
        rows.append(_e2_row(ex["fig5"], e1))
    if "fig7" in ex:
        rows.append(_e3_row(ex["fig7"]))
    if "d2" in ex:
        rows.append(
            _additive_row(
                "E4, d = 2 (Fig. 6, appendix box plot): the two-timescale runs cover the "
                "thresholds where the standard runs miss some",
                "neuron lines on the target's grid for two-timescale GD, off it for standard "
                "GD; box plots per regime",
                ex["d2"],
                "thresholds",
            )
        )
    if "d10" in ex:
        rows.append(
            _additive_row(
                "E4, d = 10 (appendix box plot): the same in 10-D",
                "box plots per regime",
                ex["d10"],
                "thresholds",
            )
        )
    if "relu" in ex:
        rows.append(
            _additive_row(
                "E5 (appendix, ReLU): the same for the teacher's kinks",
                "box plot per regime and one fitted function each",
                ex["relu"],
                "kinks",
            )
        )
    if "relu1d" in ex:
        rows.append(_relu1d_row(ex["relu1d"]))
    if "barboni2025" in ex:
        from .barboni_experiments import claims_rows

        rows += claims_rows(ex["barboni2025"])
    return HEADER + "".join(r + "\n" for r in rows)


def _relu1d_row(e: dict[str, Any]) -> str:
    st, tt = e["per_regime"]["standard"], e["per_regime"]["two_timescale"]
    p, s = e["paired"], e["settings"]
    return (
        "| relu1d (beyond the paper): E5's claim in the online setting "
        "| box plots of the final L2 error and kinks covered; one fit per regime "
        f"| two-timescale vs standard, {s['repeats']} repeats of {s['steps']:g} steps: kinks "
        f"covered {tt['mean_frac_covered']:.3g} vs {st['mean_frac_covered']:.3g} (mean "
        f"fraction); all 3 covered in {tt['frac_runs_all_covered']:.0%} vs "
        f"{st['frac_runs_all_covered']:.0%} of runs; median final L2 error "
        f"{_g(tt['median_final_l2'])} vs {_g(st['median_final_l2'])}; covers more in "
        f"{p['two_timescale_covers_more']}/{s['repeats']} pairs, lower L2 in "
        f"{p['two_timescale_lower_l2']}/{s['repeats']} |"
    )


def wall_times_line(metrics: dict[str, Any]) -> str:
    """One line with the run's scale, the wall time of each experiment and their sum
    (each experiment timed in the run that last wrote it; a directory may merge
    several runs)."""
    wt = metrics["wall_time_s"]
    parts = ", ".join(f"{k} {v:.1f}" for k, v in wt.items())
    # The total is rounded like the parts: "total 0 s" for a quick run misled.
    return (
        f"Scale {metrics['scale']}, seed {metrics['seed']}, target values "
        f"{metrics['target']}. Wall times (s): {parts}; total {sum(wt.values()):.1f} s."
    )
