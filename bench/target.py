"""What a benchmark target is, as data: how to prepare, start, check, drive and clean it up.

``argv`` and ``env`` values may use these placeholders: ``{python}`` (this interpreter),
``{agents_python}`` (the Agents SDK peer's own interpreter, ``bench/.venv-agents``), ``{repo}``,
``{port}``, ``{workdir}`` (a fresh temporary directory per target and round, removed afterwards),
``{cache}`` (one directory for the whole run, e.g. for a seeded database that every round copies),
``{connector_url}`` (the mock connector's serviceUrl) and ``{name}``.  ``PORT`` is always set in
the environment.  The process must serve ``POST /api/messages`` on 127.0.0.1:{port} and should
``exec`` the server itself (not run it as a child of a shell) so that the peak RSS and CPU read
from its pid are the server's.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.agents_venv import PYTHON as AGENTS_PYTHON
from bench.loadgen import ActivityCustomiser, HangConfig, Identity, MessageSupplier, echo_messages
from bench.traffic import Traffic

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


@dataclass(frozen=True)
class TargetContext:
    """Everything a target's hooks may need about the run it is part of."""

    name: str
    port: int
    workdir: Path
    cache: Path
    connector_url: str
    # The full environment the target (and an argv prepare) runs with.  Deliberately mutable: a
    # callable prepare may set or change variables (e.g. the URL of a database it just created)
    # and the target is started with this same mapping.
    env: dict[str, str]

    @property
    def url(self) -> str:
        """Base URL of the (first) instance."""
        return f"http://{HOST}:{self.port}"

    def expand(self, value: str) -> str:
        """Fill the ``{placeholder}``s; other braces are left alone (they may be real text)."""
        for key, replacement in (
            ("{python}", sys.executable),
            ("{agents_python}", str(AGENTS_PYTHON)),
            ("{repo}", str(REPO)),
            ("{port}", str(self.port)),
            ("{workdir}", str(self.workdir)),
            ("{cache}", str(self.cache)),
            ("{connector_url}", self.connector_url),
            ("{name}", self.name),
        ):
            value = value.replace(key, replacement)
        return value


Hook = Callable[[TargetContext], Any]
"""A prepare or cleanup hook: sync (run in a thread, so it may call asyncio.run) or async."""
Prepare = Hook | Sequence[str]
ReadyCheck = Callable[[str], Awaitable[bool]]
"""Given an instance's base URL, is it ready?"""


async def tcp_ready(url: str) -> bool:
    """Default ready check: the port accepts a TCP connection."""
    port = int(url.rsplit(":", 1)[1])
    try:
        _, writer = await asyncio.open_connection(HOST, port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True


def http_ready(path: str) -> ReadyCheck:
    """A ready check that GETs ``path`` and accepts any answer below 500."""

    async def check(url: str) -> bool:
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.get(url + path, timeout=aiohttp.ClientTimeout(total=2)) as response,
            ):
                return response.status < 500
        except (aiohttp.ClientError, TimeoutError):
            return False

    return check


@dataclass(frozen=True)
class Target:
    """A server to benchmark, described as data.

    ``traffic`` (conversation scripts, ``bench.traffic``) wins over ``messages`` (one message
    per conversation, the echo peers).  ``instances`` > 1 starts that many processes on one
    prepared environment (e.g. one database) and spreads turns over them.  ``concurrencies``
    overrides the run's levels for this target.  ``hang``: after each normal phase, a second
    phase at the same concurrency while that many conversations hang at the connector.
    """

    name: str
    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    prepare: Prepare | None = None
    cleanup: Hook | None = None
    ready: ReadyCheck = tcp_ready
    messages: MessageSupplier = echo_messages
    traffic: Traffic | None = None
    customise: ActivityCustomiser | None = None
    identity: Identity | None = None
    instances: int = 1
    concurrencies: tuple[int, ...] | None = None
    hang: HangConfig | None = None
    path: str = "/api/messages"
    description: str = ""
    notes: tuple[str, ...] = ()  # printed with the results (how the target was written, and why)
    ready_timeout_s: float = 60.0
    prepare_timeout_s: float = 900.0


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
