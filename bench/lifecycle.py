"""One target, one round: prepare, start its instances, load it phase by phase, measure, stop.

:func:`bench_target` never raises for a target's own failure (it is recorded in the result), so
one broken target cannot abort the others.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import inspect
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from bench.loadgen import (
    HangConfig,
    PhaseConfig,
    PhaseResult,
    new_client_session,
    run_phase,
    wait_for_stragglers,
)
from bench.mock_connector import MockConnector
from bench.procfs import (
    cpu_probe_ms,
    cpu_seconds,
    machine_cpu_seconds,
    memory_snapshot,
    owns_listener,
    postgres_cpu,
)
from bench.report import OTHER_CPU_WARN
from bench.target import HOST, REPO, Hook, Profile, Target, TargetContext

logger = logging.getLogger("bench.run")

LOG_DIR = REPO / "bench" / "results" / "logs"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def open_log(name: str) -> TextIO:
    """The target's log (stdout and stderr of its processes and prepare), appended per round."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = (LOG_DIR / f"{name}.log").open("a", encoding="utf-8")
    log.write(f"### {datetime.now(UTC).isoformat(timespec='seconds')}\n")
    return log


def clear_log(name: str) -> None:
    """Start a run with an empty log for ``name``."""
    (LOG_DIR / f"{name}.log").unlink(missing_ok=True)


def _log_tail(name: str, lines: int = 20) -> str:
    try:
        return "\n".join((LOG_DIR / f"{name}.log").read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


async def _run_hook(hook: Hook, ctx: TargetContext, timeout_s: float) -> None:
    if inspect.iscoroutinefunction(hook):
        await asyncio.wait_for(hook(ctx), timeout_s)
    else:
        # In a thread: a sync hook may itself call asyncio.run (e.g. an async seeder).
        await asyncio.wait_for(asyncio.to_thread(hook, ctx), timeout_s)


async def _run_prepare(target: Target, ctx: TargetContext, log: TextIO) -> None:
    if target.prepare is None:
        return
    if callable(target.prepare):
        await _run_hook(target.prepare, ctx, target.prepare_timeout_s)
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


@dataclass
class Instance:
    """One started process of a target."""

    process: asyncio.subprocess.Process
    port: int

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


async def _wait_ready(target: Target, instance: Instance) -> float:
    started = time.perf_counter()
    deadline = started + target.ready_timeout_s
    foreign = False
    process = instance.process
    while time.perf_counter() < deadline:
        if process.returncode is not None:
            raise RuntimeError(f"exited with {process.returncode} before becoming ready")
        if await target.ready(instance.url):
            if owns_listener(process.pid, instance.port):
                return time.perf_counter() - started
            foreign = True
        else:
            foreign = False
        await asyncio.sleep(0.05)
    if foreign:
        raise RuntimeError(f"port {instance.port} answers but the target does not own it (port clash)")
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


def freeze_gc() -> None:
    """Collect, then move survivors to the permanent generation: the load generator's full
    collections then have almost nothing to scan, so its own pauses stay out of the figures."""
    gc.collect()
    gc.freeze()


def _database_name(env: dict[str, str]) -> str | None:
    """The PostgreSQL database a target uses (for its backends' CPU), if it uses one."""
    url = env.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        return None
    return url.rsplit("/", 1)[-1].split("?", 1)[0] or None


async def bench_target(
    target: Target,
    connector: MockConnector,
    profile: Profile,
    concurrencies: Sequence[int],
    cache: Path,
    quiet_wait_s: float = 0.0,
) -> dict[str, Any]:
    """Prepare, start, load, measure and stop one target; never raises for target failures."""
    ports = [_free_port() for _ in range(target.instances)]
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{target.name}-"))
    env: dict[str, str] = dict(os.environ)
    # Loopback only: make sure no inherited proxy setting routes the target's replies elsewhere.
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PORT"] = str(ports[0])
    ctx = TargetContext(
        name=target.name,
        port=ports[0],
        workdir=workdir,
        cache=cache,
        connector_url=connector.service_url,
        env=env,
    )
    env.update({key: ctx.expand(value) for key, value in target.env.items()})
    result: dict[str, Any] = {
        "name": target.name,
        "description": target.description,
        "notes": list(target.notes),
        "instances": target.instances,
        "env": {key: env[key] for key in target.env},
        "status": "failed",
        "error": None,
        "phases": [],
    }
    instances: list[Instance] = []
    log = open_log(target.name)
    prepared = False
    try:
        await _run_prepare(target, ctx, log)
        prepared = True
        result["env"] = {key: env[key] for key in target.env}  # after prepare, which may rewrite them
        for port in ports:
            own = dataclasses.replace(ctx, port=port)
            argv = [own.expand(part) for part in target.argv]
            logger.info("%s: starting %s on port %d", target.name, " ".join(argv), port)
            log.write(f"### start: {argv}\n")
            log.flush()
            process = await asyncio.create_subprocess_exec(
                *argv, cwd=REPO, env={**env, "PORT": str(port)}, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,  # own process group: stopping it stops its children
            )  # fmt: skip
            instances.append(Instance(process, port))
        result["argv"] = argv
        result["pid"] = [i.process.pid for i in instances]
        result["startup_s"] = round(max([await _wait_ready(target, i) for i in instances]), 3)
        result["idle"] = memory_snapshot(instances[0].process.pid)
        database = _database_name(env)
        for concurrency in target.concurrencies or concurrencies:
            # Before the warm-up, not between warm-up and measurement, so a wait cannot let
            # warmed-up state (pooled connections, caches) go cold.
            quiet = await wait_until_quiet(quiet_wait_s) if quiet_wait_s > 0 else None
            for hang in (None, target.hang) if target.hang else (None,):
                phase = await _bench_phase(target, connector, instances, profile, concurrency, hang, database)
                phase["extra"]["before_warmup"] = quiet
                result["phases"].append(phase)
                for instance in instances:
                    if instance.process.returncode is not None:
                        raise RuntimeError(
                            f"exited with {instance.process.returncode} during {phase['extra']['label']}"
                        )
        snapshots = [memory_snapshot(i.process.pid) for i in instances]  # VmHWM while the processes exist
        result.update(snapshots[0])
        peaks = [peak for s in snapshots if (peak := s.get("rss_peak_kib"))]
        result["rss_peak_kib"] = max(peaks) if peaks else None
        result["instance_memory"] = snapshots
        result["status"] = "ok"
    except Exception as exc:  # a broken target must not abort the other targets' runs
        result["error"] = f"{type(exc).__name__}: {exc}"
        logger.error("%s failed: %s\n%s", target.name, result["error"], _log_tail(target.name))
    finally:
        result["exit_code"] = [await _stop(i.process) for i in instances]
        if target.cleanup is not None and prepared:
            try:
                await _run_hook(target.cleanup, ctx, 120.0)
            except Exception as exc:
                logger.warning("%s: cleanup failed: %s", target.name, exc)
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return result


async def _bench_phase(
    target: Target,
    connector: MockConnector,
    instances: Sequence[Instance],
    profile: Profile,
    concurrency: int,
    hang: HangConfig | None,
    database: str | None,
) -> dict[str, Any]:
    urls = [i.url + target.path for i in instances]
    common: dict[str, Any] = {
        "connector": connector,
        "target_url": urls,
        "messages": target.messages,
        "traffic": target.traffic,
        "customise": target.customise,
        "identity": target.identity,
    }
    pids = [i.process.pid for i in instances]
    async with new_client_session(concurrency) as session:
        warm = await run_phase(
            session=session,
            config=PhaseConfig(
                concurrency, profile.warmup_requests, profile.warmup_seconds, profile.reply_timeout
            ),
            **common,
        )
        await wait_for_stragglers(connector)
        freeze_gc()
        probe_before = cpu_probe_ms()
        cpu_before = [cpu_seconds(pid) for pid in pids]
        pg_before = postgres_cpu(database)
        machine_before = machine_cpu_seconds()
        measured: PhaseResult = await run_phase(
            session=session,
            config=PhaseConfig(concurrency, profile.max_requests, profile.max_seconds, profile.reply_timeout),
            start_at=warm.conversations,  # new conversations, not the warm-up's again
            hang=hang,
            **common,
        )
        cpu_after = [cpu_seconds(pid) for pid in pids]
        pg_after = postgres_cpu(database)
        machine_after = machine_cpu_seconds()
        probe_after = cpu_probe_ms()
    await wait_for_stragglers(connector)
    extra = measured.extra
    extra["label"] = f"c{concurrency}" + (f"+hang{hang.conversations}" if hang else "")
    extra["mode"] = "faults" if hang else "normal"
    elapsed = measured.elapsed_s
    if elapsed > 0 and None not in cpu_before and None not in cpu_after:
        per_instance = [round((a - b) / elapsed, 3) for a, b in zip(cpu_after, cpu_before, strict=True)]  # type: ignore[operator]
        target_cpu = sum(per_instance)
        machine_busy = (machine_after[0] - machine_before[0]) / elapsed
        extra["target_cpu"] = round(target_cpu, 3)
        extra["instance_cpu"] = per_instance
        extra["machine_cpu"] = round(machine_busy, 3)
        extra["postgres_cpu"] = pg_after.delta(pg_before, elapsed) if database else None
        pg_all = extra["postgres_cpu"]["all"] if extra["postgres_cpu"] else 0.0
        # CPU used by anything other than the target, PostgreSQL and this process (other
        # engineers' jobs, system daemons): a large figure means the run was contended.
        extra["other_cpu"] = round(max(0.0, machine_busy - target_cpu - pg_all - measured.loadgen_cpu), 3)
        extra["steal_cpu"] = round((machine_after[1] - machine_before[1]) / elapsed, 3)
        extra["cpu_ms_per_turn"] = (
            round(target_cpu * elapsed / measured.ok * 1000, 3) if measured.ok else None
        )
    extra["cpu_probe_ms"] = [probe_before, probe_after]
    extra["warmup"] = {"ok": warm.ok, "errors": warm.errors, "error_kinds": warm.error_kinds,
                       "throughput_rps": warm.throughput_rps}  # fmt: skip
    lat = measured.latency_ms
    logger.info(
        "%s %s: %.1f replies/s, p50 %s ms, p99 %s ms, %d errors (load generator %.0f%% of a core)",
        target.name, extra["label"], measured.throughput_rps, lat.p50, lat.p99, measured.errors,
        measured.loadgen_cpu * 100,
    )  # fmt: skip
    return measured.as_dict()
