"""Benchmark runner: start each target, load it at concurrency 1 then 16, compare, write JSON.

Usage::

    .venv/bin/python -m bench.run                 # full run, all targets (~3 min for the baselines)
    .venv/bin/python -m bench.run --quick         # short phases (~1 min for the baselines)
    .venv/bin/python -m bench.run --only echo-bot --only bare-aiohttp,tracker-sqlite-10k
    .venv/bin/python -m bench.run --repeat 3      # 3 interleaved rounds, median ratios
    .venv/bin/python -m bench.run --list          # show the targets

For each target: run its ``prepare`` hook, start it as a subprocess in its own process group on a
free port, wait until it is ready, then for each concurrency run an uncounted warm-up followed by
the measured phase, read its peak RSS (``VmHWM``), stop it.  The load generator and the mock Bot
Connector share this process; their CPU use is reported per phase so a saturated load generator
is visible rather than silently capping the numbers.

Ratios are computed against the baselines *measured in the same run* (``echo-bot`` is the stock
botbuilder sample, ``bare-aiohttp`` the no-framework ceiling): absolute figures move with the
machine, ratios taken minutes apart on the same machine are what is comparable.  Include both
baselines in ``--only`` when benchmarking a new target.  The shared VMs this runs on change
single-thread speed by up to ~1.8x within seconds (see ``cpu_probe_ms`` in the JSON), so for a
decision use ``--repeat 3``: rounds are interleaved and the median within-round ratio is reported.
Target logs go to ``bench/results/logs/NAME.log``.

Adding a target
---------------
Append a :class:`Target` to :func:`targets`.  ``argv`` and ``env`` values may use these
placeholders: ``{python}`` (this interpreter), ``{repo}``, ``{port}``, ``{workdir}`` (a fresh
temporary directory per target, removed afterwards), ``{connector_url}`` (the mock connector's
serviceUrl) and ``{name}``.  ``PORT`` is always set in the environment.  The process must serve
``POST /api/messages`` on 127.0.0.1:{port} and should ``exec`` the server itself (not run it as
a child of a shell) so that the peak RSS read from its pid is the server's.  Example, for when
Tracker has a ``serve`` command and a seeding command::

    Target(
        name="tracker-sqlite-10k",
        argv=("{repo}/.venv/bin/tracker", "serve"),
        env={
            "DATABASE_URL": "sqlite+aiosqlite:///{workdir}/tracker.db",
            "TRACKER_SCHEDULER": "off",
        },
        # argv form: run with the target's env before start; or any callable(TargetContext),
        # sync (run in a thread) or async, e.g. one that creates and seeds the database.
        prepare=("{repo}/.venv/bin/tracker", "seed", "--items", "10000"),
        ready=http_ready("/healthz"),   # default: the TCP port accepts a connection
        messages=cycle_messages(("status of rec 35", "what's overdue?", "help")),
    )

(``http_ready`` is in this module; ``cycle_messages`` and ``Identity`` are in ``bench.loadgen``.)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import inspect
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import aiohttp

from bench.loadgen import (
    ActivityCustomiser,
    Identity,
    MessageSupplier,
    PhaseConfig,
    PhaseResult,
    echo_messages,
    new_client_session,
    run_phase,
    wait_for_stragglers,
)
from bench.mock_connector import MockConnector
from bench.procfs import (
    cpu_probe_ms,
    cpu_seconds,
    machine_cpu_seconds,
    machine_info,
    memory_snapshot,
    owns_listener,
)
from bench.report import (
    BARE,
    ECHO,
    OTHER_CPU_WARN,
    compute_ratios,
    cpu_probe_summary,
    format_report,
    summarise,
)
from bench.tracker_targets import tracker_targets

logger = logging.getLogger("bench.run")

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "bench" / "results" / "latest.json"
LOG_DIR = REPO / "bench" / "results" / "logs"

HOST = "127.0.0.1"


# -- target description ------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetContext:
    """Everything a target's hooks may need about the run it is part of."""

    name: str
    port: int
    workdir: Path
    connector_url: str
    # The full environment the target (and an argv prepare) runs with.  Deliberately mutable: a
    # callable prepare may set or change variables (e.g. the URL of a database it just created)
    # and the target is started with this same mapping.
    env: dict[str, str]

    @property
    def url(self) -> str:
        """Base URL of the target."""
        return f"http://{HOST}:{self.port}"

    def expand(self, value: str) -> str:
        """Fill the ``{placeholder}``s; other braces are left alone (they may be real text)."""
        for key, replacement in (
            ("{python}", sys.executable),
            ("{repo}", str(REPO)),
            ("{port}", str(self.port)),
            ("{workdir}", str(self.workdir)),
            ("{connector_url}", self.connector_url),
            ("{name}", self.name),
        ):
            value = value.replace(key, replacement)
        return value


Prepare = Callable[[TargetContext], Any] | Sequence[str]
ReadyCheck = Callable[[TargetContext], Awaitable[bool]]


async def tcp_ready(ctx: TargetContext) -> bool:
    """Default ready check: the port accepts a TCP connection."""
    try:
        _, writer = await asyncio.open_connection(HOST, ctx.port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True


def http_ready(path: str) -> ReadyCheck:
    """A ready check that GETs ``path`` and accepts any answer below 500."""

    async def check(ctx: TargetContext) -> bool:
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.get(ctx.url + path, timeout=aiohttp.ClientTimeout(total=2)) as response,
            ):
                return response.status < 500
        except (aiohttp.ClientError, TimeoutError):
            return False

    return check


@dataclass(frozen=True)
class Target:
    """A server to benchmark, described as data."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    prepare: Prepare | None = None
    ready: ReadyCheck = tcp_ready
    messages: MessageSupplier = echo_messages
    customise: ActivityCustomiser | None = None
    identity: Identity | None = None
    path: str = "/api/messages"
    description: str = ""
    ready_timeout_s: float = 60.0
    prepare_timeout_s: float = 600.0


def targets() -> list[Target]:
    """All known targets, in run order (baselines first so a partial run still has them)."""
    return [
        Target(
            name=ECHO,
            argv=("{python}", "-m", "bench.targets.echo_bot"),
            description="stock botbuilder 4.17.1 CloudAdapter echo sample (baseline)",
        ),
        Target(
            name=BARE,
            argv=("{python}", "-m", "bench.targets.bare_aiohttp"),
            description="bare aiohttp handler + shared ClientSession (ceiling)",
        ),
        *tracker_targets(Target, http_ready),
    ]


# -- run profile -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """How long each phase runs. Every phase is bounded by both count and time."""

    name: str
    warmup_requests: int
    warmup_seconds: float
    max_requests: int
    max_seconds: float
    reply_timeout: float = 10.0


QUICK = Profile("quick", warmup_requests=300, warmup_seconds=1.5, max_requests=10_000, max_seconds=8.0)
FULL = Profile("full", warmup_requests=1_000, warmup_seconds=3.0, max_requests=40_000, max_seconds=30.0)


# -- target lifecycle --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _open_log(name: str) -> TextIO:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    # Append: with --repeat every round of a target shares one log; run() clears it first.
    log = (LOG_DIR / f"{name}.log").open("a", encoding="utf-8")
    log.write(f"### {datetime.now(UTC).isoformat(timespec='seconds')}\n")
    return log


def _log_tail(name: str, lines: int = 20) -> str:
    try:
        return "\n".join((LOG_DIR / f"{name}.log").read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


async def _run_prepare(target: Target, ctx: TargetContext, log: TextIO) -> None:
    if target.prepare is None:
        return
    if callable(target.prepare):
        if inspect.iscoroutinefunction(target.prepare):
            await asyncio.wait_for(target.prepare(ctx), target.prepare_timeout_s)
        else:
            # In a thread: a sync hook may itself call asyncio.run (e.g. an async seeder).
            await asyncio.wait_for(asyncio.to_thread(target.prepare, ctx), target.prepare_timeout_s)
        return
    argv = [ctx.expand(part) for part in target.prepare]
    logger.info("%s: prepare: %s", target.name, " ".join(argv))
    log.write(f"### prepare: {argv}\n")
    log.flush()
    process = await asyncio.create_subprocess_exec(
        *argv, cwd=REPO, env=dict(ctx.env), stdout=log, stderr=subprocess.STDOUT
    )
    try:
        code = await asyncio.wait_for(process.wait(), target.prepare_timeout_s)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise RuntimeError(f"prepare timed out after {target.prepare_timeout_s:.0f} s") from None
    if code != 0:
        raise RuntimeError(f"prepare exited {code}")


async def _wait_ready(target: Target, ctx: TargetContext, process: asyncio.subprocess.Process) -> float:
    started = time.perf_counter()
    deadline = started + target.ready_timeout_s
    foreign = False
    while time.perf_counter() < deadline:
        if process.returncode is not None:
            raise RuntimeError(f"exited with {process.returncode} before becoming ready")
        if await target.ready(ctx):
            if owns_listener(process.pid, ctx.port):
                return time.perf_counter() - started
            foreign = True
        else:
            foreign = False
        await asyncio.sleep(0.05)
    if foreign:
        raise RuntimeError(f"port {ctx.port} answers but the target does not own it (port clash)")
    raise RuntimeError(f"not ready after {target.ready_timeout_s:.0f} s")


async def _stop(process: asyncio.subprocess.Process, grace: float = 10.0) -> int | None:
    """SIGTERM the target's process group (it is a session leader we started), then SIGKILL."""
    if process.returncode is None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            try:
                await asyncio.wait_for(process.wait(), grace)
                break
            except TimeoutError:
                logger.warning("pid %d ignored %s", process.pid, sig.name)
    return process.returncode


async def wait_until_quiet(max_wait_s: float, threshold: float = OTHER_CPU_WARN) -> dict[str, float]:
    """Wait (at most ``max_wait_s``) until the rest of the machine uses < ``threshold`` cores.

    Called before a phase, while the target and load generator are idle, so all measured CPU is
    someone else's: on a shared box, starting a phase during another engineer's test run would measure
    their test run as much as the target.
    """
    started = time.perf_counter()
    while True:
        busy_before, at = machine_cpu_seconds()[0], time.perf_counter()
        await asyncio.sleep(1.0)
        busy = (machine_cpu_seconds()[0] - busy_before) / (time.perf_counter() - at)
        waited = time.perf_counter() - started
        if busy < threshold or waited >= max_wait_s:
            if busy >= threshold:
                logger.warning("machine still busy (%.2f cores used by others) after %.0f s", busy, waited)
            return {"other_cpu": round(busy, 3), "waited_s": round(waited, 1)}


def _freeze_gc() -> None:
    # Collect first so garbage is not frozen, then move survivors to the permanent generation:
    # the load generator's full collections then have almost nothing to scan, so its own pauses
    # stay out of the latency figures.
    gc.collect()
    gc.freeze()


async def bench_target(
    target: Target,
    connector: MockConnector,
    profile: Profile,
    concurrencies: Sequence[int],
    quiet_wait_s: float = 0.0,
) -> dict[str, Any]:
    """Prepare, start, load, measure and stop one target; never raises for target failures."""
    port = _free_port()
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{target.name}-"))
    env: dict[str, str] = dict(os.environ)
    # Loopback only: make sure no inherited proxy setting routes the target's replies elsewhere.
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PORT"] = str(port)
    ctx = TargetContext(
        name=target.name, port=port, workdir=workdir, connector_url=connector.service_url, env=env
    )
    env.update({key: ctx.expand(value) for key, value in target.env.items()})
    argv = [ctx.expand(part) for part in target.argv]
    result: dict[str, Any] = {
        "name": target.name,
        "description": target.description,
        "argv": argv,
        "env": {key: env[key] for key in target.env},
        "status": "failed",
        "error": None,
        "phases": [],
    }
    process: asyncio.subprocess.Process | None = None
    log = _open_log(target.name)
    try:
        await _run_prepare(target, ctx, log)
        # Recorded after prepare, which may have rewritten some of them.
        result["env"] = {key: env[key] for key in target.env}
        logger.info("%s: starting %s on port %d", target.name, " ".join(argv), port)
        log.write(f"### start: {argv}\n")
        log.flush()
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group, so stopping it also stops any children
        )
        result["pid"] = process.pid
        result["startup_s"] = round(await _wait_ready(target, ctx, process), 3)
        result["idle"] = memory_snapshot(process.pid)
        url = ctx.url + target.path
        for concurrency in concurrencies:
            # Before the warm-up, not between warm-up and measurement, so a wait cannot let
            # warmed-up state (pooled connections, caches) go cold.
            quiet = await wait_until_quiet(quiet_wait_s) if quiet_wait_s > 0 else None
            phase = await _bench_phase(target, connector, process, url, profile, concurrency)
            phase["extra"]["before_warmup"] = quiet
            result["phases"].append(phase)
            if process.returncode is not None:
                raise RuntimeError(f"exited with {process.returncode} during concurrency {concurrency}")
        result.update(memory_snapshot(process.pid))  # read VmHWM while the process still exists
        result["status"] = "ok"
    except Exception as exc:  # a broken target must not abort the other targets' runs
        result["error"] = f"{type(exc).__name__}: {exc}"
        logger.error("%s failed: %s\n%s", target.name, result["error"], _log_tail(target.name))
    finally:
        if process is not None:
            result["exit_code"] = await _stop(process)
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return result


async def _bench_phase(
    target: Target,
    connector: MockConnector,
    process: asyncio.subprocess.Process,
    url: str,
    profile: Profile,
    concurrency: int,
) -> dict[str, Any]:
    common = {
        "connector": connector,
        "target_url": url,
        "messages": target.messages,
        "customise": target.customise,
        "identity": target.identity,
    }
    async with new_client_session(concurrency) as session:
        warm = await run_phase(
            session=session,
            config=PhaseConfig(
                concurrency, profile.warmup_requests, profile.warmup_seconds, profile.reply_timeout
            ),
            **common,
        )
        await wait_for_stragglers(connector)
        _freeze_gc()
        probe_before = cpu_probe_ms()
        cpu_before = cpu_seconds(process.pid)
        machine_before = machine_cpu_seconds()
        measured: PhaseResult = await run_phase(
            session=session,
            config=PhaseConfig(concurrency, profile.max_requests, profile.max_seconds, profile.reply_timeout),
            **common,
        )
        cpu_after = cpu_seconds(process.pid)
        machine_after = machine_cpu_seconds()
        probe_after = cpu_probe_ms()
    await wait_for_stragglers(connector)
    elapsed = measured.elapsed_s
    if cpu_before is not None and cpu_after is not None and elapsed > 0:
        target_cpu = (cpu_after - cpu_before) / elapsed
        machine_busy = (machine_after[0] - machine_before[0]) / elapsed
        measured.extra["target_cpu"] = round(target_cpu, 3)
        measured.extra["machine_cpu"] = round(machine_busy, 3)
        # CPU used by anything other than the target and this process (other engineers' jobs,
        # system daemons): a large figure means the run was contended and should be repeated.
        measured.extra["other_cpu"] = round(max(0.0, machine_busy - target_cpu - measured.loadgen_cpu), 3)
        measured.extra["steal_cpu"] = round((machine_after[1] - machine_before[1]) / elapsed, 3)
    measured.extra["cpu_probe_ms"] = [probe_before, probe_after]
    measured.extra["warmup"] = {
        "ok": warm.ok,
        "errors": warm.errors,
        "error_kinds": warm.error_kinds,
        "throughput_rps": warm.throughput_rps,
    }
    lat = measured.latency_ms
    logger.info(
        "%s c=%d: %.1f replies/s, p50 %s ms, p99 %s ms, %d errors (load generator %.0f%% of a core)",
        target.name,
        concurrency,
        measured.throughput_rps,
        lat.p50,
        lat.p99,
        measured.errors,
        measured.loadgen_cpu * 100,
    )
    return measured.as_dict()


# -- entry point -------------------------------------------------------------------------------


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short phases (smoke run, ~1 min)")
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only these targets (repeat or comma-separate); include the baselines for ratios",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results JSON (default: %(default)s)")
    parser.add_argument("--concurrency", default="1,16", help="comma-separated levels (default: %(default)s)")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds per target, interleaved; ratios are medians of within-round ratios (default: 1)",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=None,
        metavar="S",
        help="before each phase, wait up to S s for other processes to go idle (default: 10 quick, 20 full)",
    )
    parser.add_argument("--list", action="store_true", help="list targets and exit")
    parser.add_argument("--no-micro", action="store_true", help="skip the in-process figures (resolution, digest, RSS)")
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser.parse_args(argv)


def _select(all_targets: Sequence[Target], only: Sequence[str] | None) -> list[Target]:
    if not only:
        return list(all_targets)
    wanted = [name.strip() for chunk in only for name in chunk.split(",") if name.strip()]
    known = {t.name: t for t in all_targets}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise SystemExit(f"unknown target(s): {', '.join(unknown)}; known: {', '.join(known)}")
    # Keep list order (baselines first) regardless of the order given on the command line.
    return [t for t in all_targets if t.name in wanted]


async def run(
    selected: Sequence[Target],
    profile: Profile,
    concurrencies: Sequence[int],
    repeat: int = 1,
    quiet_wait_s: float = 0.0,
) -> dict[str, Any]:
    """Benchmark ``selected`` ``repeat`` times, round-robin, and return the full report."""
    report: dict[str, Any] = {
        "schema": 1,
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
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
            "latency": "POST /api/messages sent -> reply received by the mock connector",
        },
        "targets": [],
    }
    for target in selected:
        (LOG_DIR / f"{target.name}.log").unlink(missing_ok=True)
    started = time.perf_counter()
    async with MockConnector(host=HOST) as connector:
        _freeze_gc()
        # Interleave rounds (A B A B ...) rather than repeating each target back to back, so slow
        # drift in the machine's speed lands on every target alike.
        for round_no in range(repeat):
            for target in selected:
                if repeat > 1:
                    logger.info("round %d/%d: %s", round_no + 1, repeat, target.name)
                result = await bench_target(target, connector, profile, concurrencies, quiet_wait_s)
                report["targets"].append({"round": round_no, **result})
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
            print(f"{target.name:<24} {target.description}")
        return 0
    selected = _select(all_targets, args.only)
    concurrencies = [int(c) for c in args.concurrency.split(",") if c.strip()]
    if args.repeat < 1 or not concurrencies or min(concurrencies) < 1:
        raise SystemExit("--repeat and --concurrency levels must be positive")
    report = asyncio.run(
        run(
            selected,
            QUICK if args.quick else FULL,
            concurrencies,
            args.repeat,
            args.quiet_wait if args.quiet_wait is not None else (10.0 if args.quick else 20.0),
        )
    )
    if not args.no_micro:
        from bench.micro import format_micro, run_all

        logger.info("in-process figures: resolution at 100k items, digest at 10k, RSS at 100k")
        report["micro"] = run_all()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(format_report(report))
    if "micro" in report:
        print("\n" + format_micro(report["micro"]))
    print(f"\nwrote {args.out} ({report['wall_s']} s)")
    return 0 if all(r["status"] == "ok" for r in report["targets"]) else 1


if __name__ == "__main__":
    sys.exit(main())
