"""Benchmark runner: every target in one invocation, interleaved rounds, ratios, targets, JSON.

Usage::

    .venv/bin/python -m bench.run            # everything, 3 interleaved rounds (what `make bench` runs)
    .venv/bin/python -m bench.run --quick --only agents-echo,tracker-sqlite-10k    # a short look
    .venv/bin/python -m bench.run --quick --only micro-understanding,micro-digest  # in-process only
    .venv/bin/python -m bench.run --list     # the load targets and the in-process figures

For each load target and round: run its ``prepare`` hook, start it (``instances`` processes, each
in its own process group on a free port), wait until ready, then for each concurrency run an
uncounted warm-up followed by the measured phase (and, for a target with ``hang``, a second
measured phase while other conversations hang at the connector), read peak RSS (``VmHWM``), stop
it, run its ``cleanup``. The load generator and the mock Bot Connector share this process; their
CPU is reported per phase beside the target's (per instance) and PostgreSQL's, so a saturated
load generator or a busy database is visible rather than silently capping the numbers.

Ratios are taken against the peers *measured in the same round* (``echo-bot``: the stock
botbuilder sample; ``agents-echo``: the Microsoft 365 Agents SDK quickstart; ``bare-aiohttp``: the
no-framework ceiling) and the median over rounds is reported: the shared VMs this runs on change
single-thread speed by up to ~1.8x within seconds (``cpu_probe_ms`` in the JSON), so only ratios
taken minutes apart are comparable. Include the peers in ``--only`` when a ratio matters. The
issue's targets print as PASS/FAIL (``bench.report.check_targets``). With ``--only`` only what is
named runs (load targets and ``micro-*`` figures); without it, everything. Target logs go to
``bench/results/logs/NAME.log``; targets are described in ``bench/target.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import agents_venv, micro
from bench.lifecycle import bench_target, clear_log, freeze_gc
from bench.mock_connector import MockConnector
from bench.procfs import machine_info
from bench.report import (
    AGENTS,
    BARE,
    ECHO,
    check_targets,
    compute_ratios,
    cpu_probe_summary,
    format_report,
    summarise,
)
from bench.target import FULL, HOST, QUICK, REPO, Profile, Target
from bench.tracker_targets import drop_templates, pg_server_version, tracker_targets

logger = logging.getLogger("bench.run")

DEFAULT_OUT = REPO / "bench" / "results" / "latest.json"


def _ensure_agents_venv(_ctx: object) -> None:
    agents_venv.ensure()


def targets() -> list[Target]:
    """All load targets, in run order (peers first, so a partial run still has them)."""
    return [
        Target(
            name=ECHO,
            argv=("{python}", "-m", "bench.targets.echo_bot"),
            description="stock botbuilder 4.17.1 CloudAdapter echo sample",
        ),
        Target(
            name=AGENTS,
            argv=("{agents_python}", "-m", "bench.targets.agents_echo"),
            prepare=_ensure_agents_venv,
            description="Microsoft 365 Agents SDK 1.9 echo: AgentApplication + start_agent_process, anonymous auth",
            notes=(
                "written as the quickstart has it: no gc.freeze() (with it its c=16 p99 roughly halves)",
                "its loggers raised to ERROR: it warns 'App ID is not provided' on every turn",
                "own virtualenv bench/.venv-agents from bench/agents-requirements.txt",
            ),
        ),
        Target(
            name=BARE,
            argv=("{python}", "-m", "bench.targets.bare_aiohttp"),
            description="bare aiohttp handler + shared ClientSession (ceiling)",
        ),
        *tracker_targets(),
    ]


# -- entry point -------------------------------------------------------------------------------


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short phases, one round (a smoke run)")
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only these load targets and micro-* figures (repeat or comma-separate); include the peers for ratios",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results JSON (default: %(default)s)")
    parser.add_argument("--concurrency", default="1,16", help="comma-separated levels (default: %(default)s)")
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="rounds per target, interleaved; ratios are medians of within-round ratios (default: 3, 1 with --quick)",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=None,
        metavar="S",
        help="before each phase, wait up to S s for other processes to go idle (default: 10 quick, 20 full)",
    )
    parser.add_argument("--list", action="store_true", help="list targets and in-process figures, and exit")
    parser.add_argument("--no-micro", action="store_true", help="skip the in-process figures")
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser.parse_args(argv)


def _select(
    all_targets: Sequence[Target], only: Sequence[str] | None, no_micro: bool
) -> tuple[list[Target], list[str]]:
    figures = [] if no_micro else list(micro.FIGURES)
    if not only:
        return list(all_targets), figures
    wanted = [name.strip() for chunk in only for name in chunk.split(",") if name.strip()]
    known = {t.name for t in all_targets} | set(micro.FIGURES)
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise SystemExit(f"unknown name(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    # Keep list order (peers first) regardless of the order given on the command line.
    return [t for t in all_targets if t.name in wanted], [f for f in figures if f in wanted]


async def run(
    selected: Sequence[Target],
    profile: Profile,
    concurrencies: Sequence[int],
    repeat: int = 1,
    quiet_wait_s: float = 0.0,
    cache: Path | None = None,
) -> dict[str, Any]:
    """Benchmark ``selected`` ``repeat`` times, round-robin, and return the full report."""
    machine = machine_info()
    machine["postgresql"] = await pg_server_version()
    machine["packages"]["microsoft-agents-hosting-aiohttp"] = agents_venv.sdk_version()
    report: dict[str, Any] = {
        "schema": 2,
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "config": {
            "profile": profile.name,
            "concurrency": list(concurrencies),
            "repeat": repeat,
            "quiet_wait_s": quiet_wait_s,
            "warmup_requests": profile.warmup_requests,
            "warmup_seconds": profile.warmup_seconds,
            "max_requests": profile.max_requests,
            "max_seconds": profile.max_seconds,
            "reply_timeout_s": profile.reply_timeout,
            "latency": "POST /api/messages sent -> reply received by the mock connector (invokes: -> HTTP response)",
        },
        "targets": [],
    }
    for target in selected:
        clear_log(target.name)
    started = time.perf_counter()
    own_cache = cache is None
    cache = cache or Path(tempfile.mkdtemp(prefix="bench-cache-"))
    try:
        async with MockConnector(host=HOST) as connector:
            freeze_gc()
            # Interleave rounds (A B A B ...) rather than repeating each target back to back, so slow
            # drift in the machine's speed lands on every target alike.
            for round_no in range(repeat):
                for target in selected:
                    if repeat > 1:
                        logger.info("round %d/%d: %s", round_no + 1, repeat, target.name)
                    result = await bench_target(
                        target, connector, profile, concurrencies, cache, quiet_wait_s
                    )
                    report["targets"].append({"round": round_no, **result})
    finally:
        if own_cache:
            await asyncio.to_thread(drop_templates, cache)
            shutil.rmtree(cache, ignore_errors=True)
    report["summary"] = summarise(report["targets"])
    report["ratios"] = compute_ratios(report["targets"])
    report["cpu_probe_ms"] = cpu_probe_summary(report["targets"])
    report["wall_s"] = round(time.perf_counter() - started, 1)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the process exit code (1 if any target failed)."""
    args = _parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    all_targets = targets()
    if args.list:
        for target in all_targets:
            print(f"{target.name:<30} {target.description}")
        for name, what in micro.FIGURES.items():
            print(f"{name:<30} {what}")
        return 0
    selected, figures = _select(all_targets, args.only, args.no_micro)
    concurrencies = [int(c) for c in args.concurrency.split(",") if c.strip()]
    repeat = args.repeat if args.repeat is not None else (1 if args.quick else 3)
    if repeat < 1 or not concurrencies or min(concurrencies) < 1:
        raise SystemExit("--repeat and --concurrency levels must be positive")
    report = asyncio.run(
        run(
            selected,
            QUICK if args.quick else FULL,
            concurrencies,
            repeat,
            args.quiet_wait if args.quiet_wait is not None else (10.0 if args.quick else 20.0),
        )
    )
    if figures:
        logger.info("in-process figures: %s", ", ".join(figures))
        report["micro"] = micro.run_all(figures, quick=args.quick, load_run=report)
    report["checks"] = check_targets(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(format_report(report))
    print(f"\nwrote {args.out} ({report['wall_s']} s of load)")
    return 0 if all(r["status"] == "ok" for r in report["targets"]) else 1


if __name__ == "__main__":
    sys.exit(main())
