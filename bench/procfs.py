"""Linux /proc readings for the benchmark: memory, CPU time, listening sockets, machine facts.

Plain functions over /proc so the runner stays about orchestration; all return ``None`` (or an
empty result) rather than raising when a process has already gone.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any


def _proc_status(pid: int) -> dict[str, str]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def _kib(status: Mapping[str, str], key: str) -> int | None:
    value = status.get(key)
    return int(value.split()[0]) if value else None


def descendants(pid: int) -> list[int]:
    """All live descendants of ``pid`` (via /proc/PID/task/*/children)."""
    found: list[int] = []
    stack = [pid]
    while stack:
        current = stack.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                found.append(child)
                stack.append(child)
    return found


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            # fields: sl local_address rem_address st ... inode; st 0A is LISTEN.
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def owns_listener(pid: int, port: int) -> bool:
    """True if ``pid`` or one of its descendants holds the socket listening on ``port``.

    The ready check only proves *something* answers on the port; on a shared machine another
    engineer's server could have taken it between our pick and the target's bind.
    """
    inodes = _listening_inodes(port)
    if not inodes:
        return False
    for owner in (pid, *descendants(pid)):
        try:
            entries = list(os.scandir(f"/proc/{owner}/fd"))
        except OSError:
            continue
        for entry in entries:
            try:
                link = os.readlink(entry.path)
            except OSError:
                continue
            if link.startswith("socket:[") and link[8:-1] in inodes:
                return True
    return False


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of ``pid`` (all its threads), from /proc/PID/stat."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may contain spaces; fields after the closing paren are fixed.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class PostgresCpu:
    """CPU seconds of every PostgreSQL server process at one moment, and which serve ``database``."""

    database: str | None
    by_pid: Mapping[int, tuple[float, bool]]

    def delta(self, before: PostgresCpu, elapsed: float) -> dict[str, float | int]:
        """Cores used between ``before`` and this reading: all of PostgreSQL, and the backends
        serving ``database`` (the rest is other databases' work and the server's own processes).
        A backend that started meanwhile counts whole; one that exited meanwhile is not seen."""
        total = mine = 0.0
        for pid, (cpu, serves) in self.by_pid.items():
            used = max(0.0, cpu - before.by_pid.get(pid, (0.0, serves))[0])
            total += used
            mine += used if serves else 0.0
        return {
            "all": round(total / elapsed, 3),
            "database": round(mine / elapsed, 3),
            "processes": len(self.by_pid),
        }


def postgres_cpu(database: str | None) -> PostgresCpu:
    """Read every ``postgres`` process's CPU time; backends name their database in their title
    ("postgres: 15/main: postgres bench_x 127.0.0.1(40000) idle")."""
    if database is None:
        return PostgresCpu(None, {})
    found: dict[int, tuple[float, bool]] = {}
    needle = f" {database} "
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        cpu = cpu_seconds(int(entry.name))
        if cpu is not None:
            found[int(entry.name)] = (cpu, needle in title + " ")
    return PostgresCpu(database, found)


def machine_cpu_seconds() -> tuple[float, float]:
    """Machine-wide (busy, steal) CPU seconds since boot, from the aggregate line of /proc/stat."""
    try:
        first = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return 0.0, 0.0
    # user nice system idle iowait irq softirq steal ...; busy excludes idle and iowait.
    ticks = [int(x) for x in first[1:9]]
    busy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]
    hz = os.sysconf("SC_CLK_TCK")
    return busy / hz, ticks[7] / hz


def cpu_probe_ms(iterations: int = 300_000) -> float:
    """Time a fixed pure-Python loop: how fast this vCPU is *right now*.

    On shared virtual machines the host's other tenants change single-thread speed by tens of
    percent within a minute, with no steal time reported; probing around each phase shows
    whether two figures were taken at comparable speeds.
    """
    started = time.perf_counter()
    total = 0
    for i in range(iterations):
        total += i * i
    return round((time.perf_counter() - started) * 1000, 2)


def memory_snapshot(pid: int) -> dict[str, int | None]:
    """Peak and current RSS (KiB) and thread count of ``pid``, plus the peak summed over its
    descendants (an upper bound, for targets that fork workers)."""
    status = _proc_status(pid)
    tree_peak = _kib(status, "VmHWM") or 0
    for child in descendants(pid):
        tree_peak += _kib(_proc_status(child), "VmHWM") or 0
    threads = status.get("Threads")
    return {
        "rss_peak_kib": _kib(status, "VmHWM"),
        "rss_now_kib": _kib(status, "VmRSS"),
        "rss_peak_tree_kib": tree_peak,
        "threads": int(threads) if threads else None,
    }


def machine_info() -> dict[str, Any]:
    """Describe the machine so results from different boxes are not confused."""
    cpu_model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_total = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_total = int(line.split()[1])
                break
    except OSError:
        pass
    versions: dict[str, str | None] = {}
    for package in ("aiohttp", "botbuilder-core", "botbuilder-integration-aiohttp", "requests", "msrest"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cpu_model": cpu_model or platform.processor() or None,
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "memory_total_kib": mem_total,
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": versions,
    }
