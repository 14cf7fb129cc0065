"""Turn per-run target results into a summary, ratios against the baselines, and a table.

Pure functions over the JSON-shaped dicts that ``bench.run`` produces, so a saved
``results/*.json`` can be re-summarised or re-printed without re-running anything::

    .venv/bin/python -c "import json, bench.report as r; print(r.format_report(json.load(open('bench/results/latest.json'))))"

With ``--repeat N`` each target runs N times, interleaved round by round.  Ratios are taken
*within* a round (the target and baseline measured minutes apart at most) and the median across
rounds is reported: on a shared VM whose speed drifts, pairing within a round and taking the
median is far more stable than comparing medians of absolute figures.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

ECHO = "echo-bot"
BARE = "bare-aiohttp"
BASELINES = (ECHO, BARE)

# Cores used by processes other than the target and the load generator above which a phase is
# flagged as contended (the machine has 2 cores; system daemons idle well below this).
OTHER_CPU_WARN = 0.25
# Spread of the CPU speed probe across a run above which the comparison is flagged.
CPU_DRIFT_WARN = 0.25
# Load generator CPU (in cores) above which it may be what limits throughput.
LOADGEN_CPU_WARN = 0.9

Result = Mapping[str, Any]


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 4) if present else None


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 4)


def _phase(result: Result, concurrency: int) -> Mapping[str, Any] | None:
    return next((p for p in result.get("phases", []) if p["concurrency"] == concurrency), None)


def summarise(results: Sequence[Result]) -> dict[str, dict[str, Any]]:
    """Per target: medians over its successful rounds of each phase's headline figures."""
    summary: dict[str, dict[str, Any]] = {}
    for name in dict.fromkeys(r["name"] for r in results):  # first-seen order
        runs = [r for r in results if r["name"] == name]
        ok = [r for r in runs if r["status"] == "ok"]
        by_concurrency: dict[int, list[Mapping[str, Any]]] = {}
        for run in ok:
            for phase in run["phases"]:
                by_concurrency.setdefault(phase["concurrency"], []).append(phase)
        phases = []
        for concurrency, measured in by_concurrency.items():
            phases.append(
                {
                    "concurrency": concurrency,
                    "rounds": len(measured),
                    "throughput_rps": _median(p["throughput_rps"] for p in measured),
                    "p50_ms": _median(p["latency_ms"]["p50"] for p in measured),
                    "p95_ms": _median(p["latency_ms"]["p95"] for p in measured),
                    "p99_ms": _median(p["latency_ms"]["p99"] for p in measured),
                    "errors": sum(p["errors"] for p in measured),
                    "loadgen_cpu": max(p["loadgen_cpu"] for p in measured),
                    "target_cpu": _median(p["extra"].get("target_cpu") for p in measured),
                    "other_cpu": max((p["extra"].get("other_cpu") or 0.0) for p in measured),
                }
            )
        peaks = [r["rss_peak_kib"] for r in ok if r.get("rss_peak_kib")]
        summary[name] = {
            "status": "ok" if runs and len(ok) == len(runs) else "failed",
            "rounds": len(runs),
            "ok_rounds": len(ok),
            "errors": [r["error"] for r in runs if r.get("error")],
            "startup_s": _median(r.get("startup_s") for r in ok),
            "rss_peak_kib": max(peaks) if peaks else None,
            "phases": phases,
        }
    return summary


def compute_ratios(results: Sequence[Result]) -> dict[str, dict[str, dict[str, Any]]]:
    """``ratios[target][f"c{n}"][f"vs_{baseline}"]``: medians over rounds of within-round ratios.

    throughput is target / baseline (higher is better); p50/p95/p99 and rss_peak are target /
    baseline (lower is better).  ``throughput_rounds`` lists each round's ratio so the spread is
    visible.  A baseline that failed or was not run in a round contributes nothing for that
    round: no stale figures from other runs.
    """
    ok = [r for r in results if r["status"] == "ok"]
    rounds = sorted({r.get("round", 0) for r in ok})
    collected: dict[str, dict[str, dict[str, dict[str, list[float | None]]]]] = {}
    for round_no in rounds:
        in_round = {r["name"]: r for r in ok if r.get("round", 0) == round_no}
        for result in in_round.values():
            for phase in result["phases"]:
                for baseline in BASELINES:
                    base = in_round.get(baseline)
                    base_phase = _phase(base, phase["concurrency"]) if base else None
                    if base is None or base_phase is None:
                        continue
                    figures = collected.setdefault(result["name"], {}).setdefault(
                        f"c{phase['concurrency']}", {}
                    )
                    slot = figures.setdefault(f"vs_{baseline}", {})
                    slot.setdefault("throughput", []).append(
                        _ratio(phase["throughput_rps"], base_phase["throughput_rps"])
                    )
                    for pct in ("p50", "p95", "p99"):
                        slot.setdefault(pct, []).append(
                            _ratio(phase["latency_ms"][pct], base_phase["latency_ms"][pct])
                        )
                    slot.setdefault("rss_peak", []).append(
                        _ratio(result.get("rss_peak_kib"), base.get("rss_peak_kib"))
                    )
    ratios: dict[str, dict[str, dict[str, Any]]] = {}
    for name, per_concurrency in collected.items():
        for key, per_baseline in per_concurrency.items():
            for versus, series in per_baseline.items():
                entry: dict[str, Any] = {metric: _median(values) for metric, values in series.items()}
                entry["rounds"] = len(series["throughput"])
                entry["throughput_rounds"] = series["throughput"]
                ratios.setdefault(name, {}).setdefault(key, {})[versus] = entry
    return ratios


def cpu_probe_summary(results: Sequence[Result]) -> dict[str, float] | None:
    """Min/max of the CPU speed probes taken around every phase, and their relative spread."""
    probes = [ms for r in results for p in r.get("phases", []) for ms in p["extra"].get("cpu_probe_ms", [])]
    if not probes:
        return None
    return {"min": min(probes), "max": max(probes), "spread": round(max(probes) / min(probes) - 1, 3)}


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _notes(report: Mapping[str, Any], summary: Mapping[str, Mapping[str, Any]]) -> list[str]:
    notes: list[str] = []
    for result in report["targets"]:
        where = f"{result['name']} (round {result.get('round', 0) + 1})"
        for phase in result["phases"]:
            at = f"{where} c={phase['concurrency']}"
            if phase["loadgen_cpu"] >= LOADGEN_CPU_WARN:
                notes.append(
                    f"{at}: load generator used {phase['loadgen_cpu']:.0%} of a core;"
                    " throughput may be capped by it."
                )
            other = phase["extra"].get("other_cpu") or 0.0
            if other >= OTHER_CPU_WARN:
                notes.append(f"{at}: other processes used {other:.2f} cores; figures are contended.")
            if phase["errors"]:
                notes.append(f"{at}: errors {phase['error_kinds']}")
    probe = cpu_probe_summary(report["targets"])
    if probe and probe["spread"] > CPU_DRIFT_WARN:
        notes.append(
            f"CPU speed varied {probe['spread']:.0%} across the run (probe {probe['min']}..{probe['max']} ms);"
            " prefer --repeat 3 and the median ratios."
        )
    measured = {name for name, s in summary.items() if s["ok_rounds"]}
    missing = [b for b in BASELINES if b not in measured]
    if missing:
        notes.append(f"no ratios against {', '.join(missing)}: not measured in this run")
    return notes


def format_report(report: Mapping[str, Any]) -> str:
    """The human-readable tables: absolute figures (medians over rounds), then ratios.

    Summary and ratios are recomputed from ``report["targets"]`` so any saved report prints.
    """
    summary = summarise(report["targets"])
    ratios = compute_ratios(report["targets"])
    lines = [
        f"{'target':<22} {'conc':>4} {'n':>2} {'replies/s':>10} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
        f" {'errors':>6} {'lg cpu':>6} {'tgt cpu':>7} {'other':>5} {'peak MiB':>8}",
    ]
    for name, per_target in summary.items():
        for failure in per_target["errors"]:
            lines.append(f"{name:<22} FAILED: {failure}")
        peak = per_target["rss_peak_kib"]
        for phase in per_target["phases"]:
            lines.append(
                f"{name:<22} {phase['concurrency']:>4} {phase['rounds']:>2}"
                f" {_fmt(phase['throughput_rps'], '.1f'):>10}"
                f" {_fmt(phase['p50_ms'], '.2f'):>8} {_fmt(phase['p95_ms'], '.2f'):>8}"
                f" {_fmt(phase['p99_ms'], '.2f'):>8} {phase['errors']:>6} {phase['loadgen_cpu']:>6.2f}"
                f" {_fmt(phase['target_cpu'], '.2f'):>7} {phase['other_cpu']:>5.2f}"
                f" {_fmt(peak / 1024 if peak else None, '.1f'):>8}"
            )
    lines.append("")
    lines.append(
        f"{'ratios (median)':<22} {'conc':>4} {'thr/echo':>9} {'thr/bare':>9} {'p50/echo':>9}"
        f" {'p50/bare':>9} {'p99/echo':>9} {'p99/bare':>9} {'rss/echo':>9}  thr/echo by round"
    )
    for name, by_concurrency in ratios.items():
        for key, versus in by_concurrency.items():
            echo, bare = versus.get(f"vs_{ECHO}", {}), versus.get(f"vs_{BARE}", {})
            spread = " ".join(_fmt(v, ".3f") for v in echo.get("throughput_rounds", []))
            lines.append(
                f"{name:<22} {key[1:]:>4} {_fmt(echo.get('throughput'), '.3f'):>9}"
                f" {_fmt(bare.get('throughput'), '.3f'):>9} {_fmt(echo.get('p50'), '.3f'):>9}"
                f" {_fmt(bare.get('p50'), '.3f'):>9} {_fmt(echo.get('p99'), '.3f'):>9}"
                f" {_fmt(bare.get('p99'), '.3f'):>9} {_fmt(echo.get('rss_peak'), '.3f'):>9}  {spread}"
            )
    notes = _notes(report, summary)
    if notes:
        lines.append("")
        lines.extend(f"note: {note}" for note in notes)
    return "\n".join(lines)
