"""Headless driver for the Microsoft 365 Agents Playground (npm ``@microsoft/m365agentsplayground`` 0.2.28).

API (all async unless noted; see each docstring)::

    ensure_installed(repo_root=REPO_ROOT, timeout=300.0) -> Path          # sync; npm ci on first use
    async with Playground(bot_endpoint, port=None, *, bin_path=None, workdir=None, config_file=None,
                          conversation_id=None, loopback_only=True, startup_timeout=30.0,
                          request_timeout=30.0) as pg:
        pg.config -> PlaygroundConfig      # bot_id/bot_name, user_id, personal_chat_id, group_chat_ids,
                                           # team_id(s), channels {name: id}, general_channel_id
        pg.port, pg.base_url, pg.log_path, pg.notices -> list[str], pg.activities -> list[LogEntry]
        await pg.send(conversation_id, text, mention_bot=False, *, wait=True, timeout=10.0) -> SendResult
        await pg.install(conversation_id, *, wait=True, timeout=10.0)
        await pg.activity_template(template_type, conversation_id) -> dict
        await pg.custom_activity(template_type, conversation_id, *, wait=True, timeout=10.0, **overrides) -> dict
        await pg.submit(conversation_id, card_message_id, value, *, wait=True, timeout=10.0)
        await pg.invoke_execute(conversation_id, card_message_id, verb, data, title="") -> dict
        await pg.wait_for_bot_messages(conversation_id, count=1, timeout=10.0, *, include_updates=True) -> list[dict]
        pg.bot_messages(conversation_id, *, include_updates=True) -> list[dict]       # sync, non-consuming
        await pg.wait_for_entry(predicate, timeout=10.0, *, after=-1, what=...) -> LogEntry
    Errors: PlaygroundError (bot 4xx/5xx, playground 4xx/5xx, startup), PlaygroundUnavailable (no
    node/npm: skip), TimeoutError (with a summary of the last activities seen).

What follows is what the playground's documentation does not say, as observed with 0.2.28 on Node 20 against botbuilder-python 4.17.1 (CloudAdapter, empty app id).

Install
    * The package is one self-contained webpack bundle (15 MB, zero dependencies): ``npm ci`` takes
      1-1.5 s even with an empty npm cache. The smoke test (4 tests, a fresh playground each) takes
      about 7-10 s including that install; about 1 s of each test is playground startup.

Process, ports and files
    * Startup is ~1 s until ``Listening on`` (node parsing the bundle; 2 s on a busy machine), then
      ~0.1 s until ``/_debug/ping`` answers (routes are mounted just after that line is printed).
    * Stdout is not a TTY under us, so the process writes exactly one line there,
      ``Listening on PORT``; every ``console.*`` call goes to a log file instead
      (``./devTools/m365agentsplayground.log`` under the *working directory*, or
      ``$M365_AGENTS_PLAYGROUND_LOGFILE``). The driver runs it in a scratch directory (``workdir``),
      points the log at ``workdir/playground.log`` and parses the real port from stdout.
    * ``-p PORT`` falls back to a *random* port when PORT is busy (the warning only reaches the log
      file); serviceUrl then follows the real port. Without ``-p`` it uses 56150 (or
      ``$TEAMSAPPTESTER_PORT``), so two runs would collide: the driver always passes a free port.
    * It binds every interface (``*:PORT``) and has no host option. The driver preloads a 20-line
      ``--require`` shim through ``NODE_OPTIONS`` that forces ``net.Server.listen`` onto 127.0.0.1 (the
      serviceUrl still says ``localhost``, which the bot resolves fine); ``loopback_only=False`` restores
      the stock behaviour.
    * It tries to open a browser unless ``TEAMSAPPTESTER_BROWSER=none`` and sends telemetry unless
      ``--disable-telemetry``; the driver sets both and strips proxy variables (axios would honour them
      for its loopback calls). It reads ``.m365agentsplayground.yml`` (legacy ``.teamsapptesttool.yml``)
      from the working directory or ``$M365_AGENTS_PLAYGROUND_CONFIG_PATH`` to customise users, teams
      and chats; ``config_file=`` copies one in. ``SEND_INSTALLATION_ACTIVITY=true`` would make it
      install the bot on start; the driver clears it (use ``install()``).
    * It spawns no children of its own. The driver starts it in a new session and signals that
      process group (SIGTERM, then SIGKILL after 5 s); it exits in well under a second.

Timings and ordering
    * ``GET /_internal/v1/config`` runs ``wait-on`` (an HTTP HEAD on the bot endpoint, any status
      accepted) *on every call*. With the bot up it answers in ~0.2 s; with the bot down each call
      stalls 15 s and then answers 200 anyway, with only a warning on the log stream. The driver
      checks that the bot's port accepts connections first and fails fast otherwise: start the bot
      before the playground.
    * ``POST .../messages``, ``/_conversation/v1/submit``, ``/_internal/v1/customActivities`` and the
      installation call answer *before* the activity is delivered, and the playground swallows
      delivery errors. The user->bot log item is pushed only once the bot has answered, carrying the
      bot's HTTP status, so the driver waits for that item (``wait=True``): a 4xx/5xx from the bot
      raises ``PlaygroundError``, and every in-turn reply is already collected when ``send`` returns.
    * ``/_conversation/v1/invoke`` waits for the bot, but its answer keeps only ``type`` and ``value``
      (``statusCode`` dropped); ``invoke_execute`` returns the bot's full body from the log instead.
      A bot 500 becomes HTTP 502 ``UserBotError``; an unknown ``replyToId`` is 400
      ``ActivityNotFoundInConversation``. When the card message has exactly one attachment the
      playground swaps that attachment's content for the invoke's ``value`` (its UI refresh), but no
      log item says so.
    * Log stream items emitted while no WebSocket client is connected are buffered and replayed to the
      next client; the driver connects before the config call, so it misses nothing.

Who receives what
    * A message reaches the bot only in the personal chat or when ``mentions`` names the bot's id (the
      ``<at>`` text itself is not checked). The driver does not wait for delivery otherwise.
    * The ``from.id`` of a user message is only validated (an unknown id is 400 ``UserNotFound``); the
      activity is always from the configured current user. To act as someone else use a config file,
      or ``custom_activity`` overrides.
    * Posting into a thread is the same messages call with the thread id (percent-encoded) as the
      conversation id; the answer has no ``postConversationId`` then. Channel message ids are epoch
      milliseconds.
    * ``TurnContext.remove_recipient_mention`` works on these activities but leaves the leading space.

Log stream shape
    * Bot -> playground items have ``from == "User Application"`` and cover *every* connector call:
      sends (status 201), edits via PUT (200, the body carries the edited ``id``), typing (202),
      deletes (501 ``DeleteActivityAPINotImplemented``, no conversation id), and member lookups
      (``activityName`` e.g. ``getConversationMember``, which TeamsActivityHandler triggers on
      conversationUpdate). The activity is ``log.request.body``; a send carries no ``id``: the
      playground's message id is ``log.messageId`` (= ``log.response.body.id``), the id to use as
      ``replyToId`` for submit/invoke on a card. The driver copies it into the activity as ``id``.
    * Playground -> bot items carry the delivered activity; its ``id`` is a fresh UUID, *not* the
      ``messageId`` the POST answered with (the bot's reply has ``replyToId`` = that UUID).
    * Installation in a channel logs both activities under the team's id (``team-id``).
    * Custom activity template types: install, uninstall, userAdded, userRemoved, botAdded,
      botRemoved, channelCreated, channelRenamed, channelDeleted, teamRenamed, teamDeleted, sendEmail,
      mentionInWord. Channel/team ones answer 500 "Invalid conversation type" in chats; an unknown
      type is 400.

botbuilder 4.17.1 notes
    * Proactive: ``CloudAdapter.continue_conversation(reference, callback, bot_app_id=X)`` works with
      X = ``""``, ``None``, the playground's bot GUID or any string: with an empty configured app id the
      credential factory reports authentication as disabled and never compares ids.
    * ``adaptiveCard/action``: return ``InvokeResponse(status=200, body=AdaptiveCardInvokeResponse(...))``
      from ``on_invoke_activity``. Returning the model from ``on_adaptive_card_invoke`` gets it serialised
      twice (HTTP 500), and the model's ``value`` must be a dict (a card): a plain string also fails
      msrest serialisation with HTTP 500.
"""

# The requested API takes explicit ``timeout=`` arguments (like asyncio.wait_for), not asyncio.timeout().
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import fcntl  # POSIX only, like the rest of this harness (process groups, signals)
import hashlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self, TypeVar
from urllib.parse import quote, urlsplit

import aiohttp
from yarl import URL

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

PLAYGROUND_PACKAGE = "@microsoft/m365agentsplayground"
PLAYGROUND_VERSION = "0.2.28"
INSTALL_TIMEOUT_S = 300.0
REPO_ROOT = Path(__file__).resolve().parents[2]

# Labels the playground puts in log items' "from" field (schema LabelType in the bundle).
_FROM_BOT = "User Application"  # the other label is "Microsoft 365 Agents Playground"
_THREAD_MARK = ";messageid="

# Preloaded into node so the playground's HTTP server (and its port probe) bind loopback only:
# the CLI has no host option and would otherwise listen on every interface.
_LOOPBACK_SHIM = """\
'use strict';
// Loaded with --require by tests/kit/playground_driver.py: force listening sockets onto loopback.
const net = require('net');
const originalListen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const first = args[0];
  if (typeof first === 'number' || (typeof first === 'string' && /^\\d+$/.test(first))) {
    if (typeof args[1] === 'string') { args[1] = '127.0.0.1'; } else { args.splice(1, 0, '127.0.0.1'); }
  } else if (first === undefined || typeof first === 'function') {
    args.splice(0, 0, 0, '127.0.0.1');
  } else if (first && typeof first === 'object' && first.path === undefined && first.fd === undefined
             && first._handle === undefined && first.port !== undefined) {
    args[0] = Object.assign({}, first, { host: '127.0.0.1' });
  }
  return originalListen.apply(this, args);
};
"""


class PlaygroundError(RuntimeError):
    """The playground could not be installed, started or driven."""


class PlaygroundUnavailable(PlaygroundError):
    """Node or npm is missing, so the playground cannot run here at all (tests should skip)."""


# --------------------------------------------------------------------------------------------------
# Installation
# --------------------------------------------------------------------------------------------------


def _package_dir(repo_root: Path) -> Path:
    return repo_root / "tests" / "kit" / "playground"


def _installed_version(package_dir: Path) -> str | None:
    manifest = package_dir / "node_modules" / "@microsoft" / "m365agentsplayground" / "package.json"
    try:
        return str(json.loads(manifest.read_text(encoding="utf-8")).get("version"))
    except (OSError, ValueError):
        return None


def ensure_installed(repo_root: Path = REPO_ROOT, timeout: float = INSTALL_TIMEOUT_S) -> Path:
    """Install the pinned playground under ``tests/kit/playground`` if needed; return its ``agentsplayground`` bin.

    Idempotent and safe to call from several processes at once (an exclusive file lock serialises the
    ``npm ci``). Synchronous on purpose: call it from a sync fixture or via ``asyncio.to_thread``.

    Raises:
        PlaygroundUnavailable: node or npm is not on PATH.
        PlaygroundError: npm failed or timed out (its output tail is in the message).
    """
    package_dir = _package_dir(Path(repo_root))
    bin_path = package_dir / "node_modules" / ".bin" / "agentsplayground"
    # The bin is a `#!/usr/bin/env node` script, so node is needed even when already installed.
    if not shutil.which("node"):
        raise PlaygroundUnavailable("node is not on PATH")
    if bin_path.exists() and _installed_version(package_dir) == PLAYGROUND_VERSION:
        return bin_path

    npm = shutil.which("npm")
    if not npm:
        raise PlaygroundUnavailable("npm is not on PATH (needed once, to install the playground)")
    if not (package_dir / "package.json").exists():
        raise PlaygroundError(f"{package_dir / 'package.json'} is missing")

    # Lock outside the repo: npm ci wipes node_modules, and a lock file in tests/ would be untracked noise.
    digest = hashlib.sha256(str(package_dir.resolve()).encode()).hexdigest()[:16]
    lock_path = Path(tempfile.gettempdir()) / f"tracker-playground-{digest}.lock"

    with lock_path.open("w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            # Another process may have finished the install while we waited for the lock.
            if bin_path.exists() and _installed_version(package_dir) == PLAYGROUND_VERSION:
                return bin_path
            verb = "ci" if (package_dir / "package-lock.json").exists() else "install"
            command = [npm, verb, "--prefix", str(package_dir), "--no-audit", "--no-fund", "--loglevel=error"]
            logger.info("installing %s@%s: %s", PLAYGROUND_PACKAGE, PLAYGROUND_VERSION, " ".join(command))
            started = time.monotonic()
            try:
                completed = subprocess.run(
                    command,
                    cwd=package_dir,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    text=True,
                    timeout=timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise PlaygroundError(
                    f"`npm {verb}` for the playground did not finish within {timeout:.0f} s "
                    f"(is the npm registry reachable?)"
                ) from exc
            if completed.returncode != 0:
                tail = (completed.stdout + completed.stderr)[-2000:]
                raise PlaygroundError(
                    f"`npm {verb}` for the playground failed ({completed.returncode}):\n{tail}"
                )
            installed = _installed_version(package_dir)
            if not bin_path.exists() or installed != PLAYGROUND_VERSION:
                raise PlaygroundError(
                    f"after `npm {verb}` found version {installed!r} / bin {bin_path} "
                    f"(expected {PLAYGROUND_VERSION}); fix tests/kit/playground/package.json"
                )
            logger.info("playground installed in %.1f s", time.monotonic() - started)
            return bin_path
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


# --------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlaygroundConfig:
    """The mocked tenant as ``GET /_internal/v1/config`` describes it (ids change on every start)."""

    bot_id: str
    bot_name: str
    user_id: str
    user_name: str
    tenant_id: str
    personal_chat_id: str
    group_chat_ids: list[str]
    team_ids: list[str]
    channels: dict[str, str]  # channel name -> channel id (General's id is the team id)
    other_user_ids: list[str]
    raw: dict[str, Any] = field(repr=False)

    @property
    def team_id(self) -> str:
        """The first (by default the only) team's id."""
        return self.team_ids[0]

    @property
    def channel_ids(self) -> list[str]:
        """Every channel id of every team."""
        return list(self.channels.values())

    @property
    def general_channel_id(self) -> str:
        """The first team's General channel (its id equals the team id)."""
        return self.channels.get("General", self.team_id)

    def is_channel(self, conversation_id: str) -> bool:
        """True for a channel or a thread in one."""
        return conversation_id.split(_THREAD_MARK, 1)[0] in self.channel_ids

    def is_group_chat(self, conversation_id: str) -> bool:
        """True for a group chat."""
        return conversation_id in self.group_chat_ids

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> PlaygroundConfig:
        """Build from the ``/_internal/v1/config`` answer."""
        config = payload["config"]
        teams = config.get("teams") or []
        channels: dict[str, str] = {}
        for team in teams:
            for channel in team.get("channels") or []:
                # Prefix names from later teams so two "General" channels cannot collide.
                name = channel["name"] if team is teams[0] else f"{team['name']}/{channel['name']}"
                channels[name] = channel["id"]
        return cls(
            bot_id=config["bot"]["id"],
            bot_name=config["bot"]["name"],
            user_id=config["currentUser"]["id"],
            user_name=config["currentUser"].get("name", ""),
            tenant_id=config.get("tenantId", ""),
            personal_chat_id=config["personalChat"]["id"],
            group_chat_ids=[chat["id"] for chat in config.get("groupChats") or []],
            team_ids=[team["id"] for team in teams],
            channels=channels,
            other_user_ids=[user["id"] for user in config.get("users") or []],
            raw=payload,
        )


@dataclass(frozen=True)
class LogEntry:
    """One activity exchanged between the playground and the bot, as seen on ``/_ws/log/stream``."""

    seq: int
    direction: Literal["to_bot", "from_bot"]
    activity_name: str  # activity type, or e.g. "getConversationMembers" for connector reads
    conversation_id: str | None
    message_id: str | None
    activity: dict[str, Any]  # the request body
    status: int | None  # HTTP status of that request's answer
    response: Any  # that answer's body (the invoke response for invokes)
    raw: dict[str, Any] = field(repr=False)

    @property
    def is_bot_message(self) -> bool:
        """A message the bot sent or updated (not typing, not a connector read)."""
        return self.direction == "from_bot" and self.activity.get("type") == "message"

    @property
    def is_update(self) -> bool:
        """A bot message that edits an earlier one (PUT): the bot put the edited message's id in the body."""
        body = (self.raw.get("request") or {}).get("body")
        return self.is_bot_message and isinstance(body, dict) and bool(body.get("id"))


@dataclass(frozen=True)
class SendResult:
    """What the playground answered to a user message, plus how the bot took it."""

    message_id: str  # the playground's id for the user's message
    conversation_id: str  # where the bot's replies land: the new thread for a channel root post
    post_conversation_id: str | None  # only for channel root posts: "CHANNEL;messageid=MSGID"
    activity_id: str | None  # id of the activity the bot received (None if not delivered/awaited)
    bot_status: int | None  # HTTP status the bot answered with (None if not delivered/awaited)
    raw: dict[str, Any] = field(repr=False)


def _conversation_matches(wanted: str, actual: str | None) -> bool:
    """Exact match, or ``wanted`` is a channel and ``actual`` one of its threads."""
    if actual is None:
        return False
    if actual == wanted:
        return True
    return _THREAD_MARK not in wanted and actual.startswith(wanted + _THREAD_MARK)


def _deep_merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --------------------------------------------------------------------------------------------------
# The driver
# --------------------------------------------------------------------------------------------------


class Playground:
    """Run the playground against a bot endpoint and act as the Teams user.

    Usage::

        async with Playground("http://127.0.0.1:3978/api/messages") as pg:
            result = await pg.send(pg.config.personal_chat_id, "hello")
            [reply] = await pg.wait_for_bot_messages(result.conversation_id)

    The bot must already be listening: the playground asks it for a HEAD on start and stalls 15 s per
    config call otherwise, so the driver fails fast if the bot's port is closed.
    """

    def __init__(
        self,
        bot_endpoint: str,
        port: int | None = None,
        *,
        bin_path: Path | None = None,
        workdir: Path | None = None,
        config_file: Path | None = None,
        conversation_id: str | None = None,
        loopback_only: bool = True,
        startup_timeout: float = 30.0,
        request_timeout: float = 30.0,
    ) -> None:
        """Describe a playground run; nothing starts until ``async with``.

        Args:
            bot_endpoint: The bot's messaging endpoint, e.g. ``http://127.0.0.1:3978/api/messages``.
            port: Port to ask for; a free loopback port is chosen when None. The playground takes
                another one if it is busy; ``self.port`` is the real one.
            bin_path: The ``agentsplayground`` bin; ``ensure_installed()`` is used when None.
            workdir: Where the playground's log file (``playground.log``) and config go; a temporary
                directory (removed on exit) when None. Pass pytest's ``tmp_path`` to keep the log.
            config_file: A ``.m365agentsplayground.yml`` to customise the mocked tenant.
            conversation_id: Fixed personal chat id (``--conversation-id``); random when None.
            loopback_only: Force the playground to bind 127.0.0.1 instead of every interface.
            startup_timeout: Seconds to wait for the process to listen and for the bot to be reachable.
            request_timeout: Seconds for each HTTP call to the playground (invokes wait for the bot).
        """
        self.bot_endpoint = bot_endpoint
        self.requested_port = port
        self.port: int | None = None
        self._bin_path = bin_path
        self._workdir_arg = workdir
        self._config_file = config_file
        self._conversation_id = conversation_id
        self._loopback_only = loopback_only
        self._startup_timeout = startup_timeout
        self._request_timeout = request_timeout

        self._workdir: Path | None = None
        self._owns_workdir = False
        self._process: asyncio.subprocess.Process | None = None
        self._stdout_tail: deque[str] = deque(maxlen=50)
        self._stderr_tail: deque[str] = deque(maxlen=50)
        self._port_seen: asyncio.Future[int] | None = None
        self._pipe_tasks: list[asyncio.Task[None]] = []
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._stream_closed = False
        self._changed: asyncio.Condition | None = None
        self._entries: list[LogEntry] = []
        self._text_logs: list[dict[str, Any]] = []
        self._consumed: set[int] = set()
        self._config: PlaygroundConfig | None = None

    # ---- lifecycle -------------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        """Start the process, wait until it serves, subscribe to the log stream, read the config."""
        try:
            await self._start()
        except BaseException:
            # Whatever failed (including cancellation), never leave a node process behind.
            await self._shutdown()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the playground and its process group, always."""
        await self._shutdown()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` of the running playground."""
        if self.port is None:
            raise PlaygroundError("the playground is not running")
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path | None:
        """The playground's own log file (everything it would have printed)."""
        return self._workdir / "playground.log" if self._workdir else None

    async def _start(self) -> None:
        self._changed = asyncio.Condition()
        bin_path = self._bin_path or await asyncio.to_thread(ensure_installed, REPO_ROOT)
        self._workdir = await asyncio.to_thread(self._prepare_workdir)
        # The startup budget starts here, not before a possible first-time npm install.
        started = time.monotonic()
        port = self.requested_port or _free_loopback_port()

        args = [str(bin_path), "-e", self.bot_endpoint, "-c", "msteams", "-p", str(port), "--dt"]
        if self._conversation_id:
            args += ["--conversation-id", self._conversation_id]
        env = self._child_env()
        logger.info("starting playground: %s (cwd %s)", " ".join(args), self._workdir)
        self._process = await asyncio.create_subprocess_exec(
            *args,
            cwd=self._workdir,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            # Own process group, so shutdown can signal everything it might spawn in one go.
            start_new_session=True,
        )
        self._port_seen = asyncio.get_running_loop().create_future()
        assert self._process.stdout is not None and self._process.stderr is not None
        self._pipe_tasks = [
            asyncio.create_task(self._pump(self._process.stdout, self._stdout_tail, parse_port=True)),
            asyncio.create_task(self._pump(self._process.stderr, self._stderr_tail, parse_port=False)),
        ]

        deadline = started + self._startup_timeout
        self.port = await self._wait_for_port(deadline)
        listening = time.monotonic() - started
        if self.port != port:
            logger.warning("playground asked for port %s but listens on %s (port was busy)", port, self.port)

        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._request_timeout))
        await self._wait_for_ping(deadline)
        pinged = time.monotonic() - started
        # Subscribe before anything else happens so that no activity is missed.
        self._ws = await self._session.ws_connect(f"{self.base_url}/_ws/log/stream", heartbeat=30)
        self._reader = asyncio.create_task(self._read_log_stream(self._ws))
        await self._wait_for_bot_port(deadline)
        payload = await self._request("GET", "/_internal/v1/config")
        self._config = PlaygroundConfig.from_json(payload)
        logger.info(
            "playground ready on port %s in %.2f s (listening at %.2f s, ping at %.2f s)",
            self.port,
            time.monotonic() - started,
            listening,
            pinged,
        )

    def _prepare_workdir(self) -> Path:
        if self._workdir_arg is not None:
            workdir = Path(self._workdir_arg)
            workdir.mkdir(parents=True, exist_ok=True)
        else:
            workdir = Path(tempfile.mkdtemp(prefix="tracker-playground-"))
            self._owns_workdir = True
        if self._config_file is not None:
            shutil.copyfile(self._config_file, workdir / ".m365agentsplayground.yml")
        if self._loopback_only:
            (workdir / "loopback-shim.cjs").write_text(_LOOPBACK_SHIM, encoding="utf-8")
        return workdir

    def _child_env(self) -> dict[str, str]:
        assert self._workdir is not None
        env = dict(os.environ)
        # It only talks to loopback: a proxy from the environment would be wrong (axios honours it).
        for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
            env.pop(name, None)
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost,::1"
        env["TEAMSAPPTESTER_BROWSER"] = "none"
        env["M365_AGENTS_PLAYGROUND_LOGFILE"] = str(self._workdir / "playground.log")
        env["M365_AGENTS_PLAYGROUND_CONFIG_PATH"] = str(self._workdir / ".m365agentsplayground.yml")
        env["TEAMS_APP_TEST_TOOL_CONFIG_PATH"] = str(self._workdir / ".teamsapptesttool.yml")
        for name in (
            "TEAMSAPPTESTER_PORT",
            "BOT_ENDPOINT",
            "M365_AGENTS_PLAYGROUND_SERVICE_URL",
            "M365_AGENTS_PLAYGROUND_CONVERSATION_ID",
            "M365_AGENTS_PLAYGROUND_DELIVERY_MODE",
            "SEND_INSTALLATION_ACTIVITY",
        ):
            env.pop(name, None)
        if self._loopback_only:
            shim = self._workdir / "loopback-shim.cjs"
            env["NODE_OPTIONS"] = f'{env.get("NODE_OPTIONS", "")} --require "{shim}"'.strip()
        return env

    async def _pump(self, stream: asyncio.StreamReader, tail: deque[str], *, parse_port: bool) -> None:
        """Drain one pipe (so the child never blocks on it), keep a tail for error messages."""
        pending = b""
        # read() rather than readline(): a line over the stream limit would kill readline and stop draining.
        while chunk := await stream.read(65536):
            *lines, pending = (pending + chunk).split(b"\n")
            pending = pending[-65536:]
            for raw in lines:
                self._on_output_line(raw.decode(errors="replace").rstrip(), tail, parse_port=parse_port)
        if pending:
            self._on_output_line(pending.decode(errors="replace").rstrip(), tail, parse_port=parse_port)

    def _on_output_line(self, line: str, tail: deque[str], *, parse_port: bool) -> None:
        tail.append(line[:2000])
        logger.debug("playground %s: %s", "stdout" if parse_port else "stderr", line[:2000])
        if parse_port and line.startswith("Listening on ") and self._port_seen is not None:
            with contextlib.suppress(ValueError, asyncio.InvalidStateError):
                self._port_seen.set_result(int(line.removeprefix("Listening on ").strip()))

    async def _wait_for_port(self, deadline: float) -> int:
        assert self._process is not None and self._port_seen is not None
        exited = asyncio.create_task(self._process.wait())
        try:
            done, _ = await asyncio.wait(
                {self._port_seen, exited},
                timeout=max(0.0, deadline - time.monotonic()),
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            if not exited.done():
                exited.cancel()
        if self._port_seen.done():
            return self._port_seen.result()
        if exited in done:
            await asyncio.gather(*self._pipe_tasks, return_exceptions=True)
            raise PlaygroundError(
                f"playground exited with {self._process.returncode} before listening\n{self._diagnostics()}"
            )
        raise PlaygroundError(
            f"playground did not report its port within {self._startup_timeout} s\n{self._diagnostics()}"
        )

    async def _wait_for_ping(self, deadline: float) -> None:
        assert self._session is not None
        # "Listening on" is printed just before the routes are mounted, so the first ping can 404.
        while True:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with self._session.get(f"{self.base_url}/_debug/ping") as response:
                    if response.status == 200 and (await response.text()).strip() == "pong":
                        return
            if time.monotonic() > deadline:
                raise PlaygroundError(f"playground never answered /_debug/ping\n{self._diagnostics()}")
            await asyncio.sleep(0.05)

    async def _wait_for_bot_port(self, deadline: float) -> None:
        """Fail fast if the bot is not up: the playground would stall 15 s per config call instead."""
        parts = urlsplit(self.bot_endpoint)
        host = parts.hostname or "127.0.0.1"
        port = parts.port or (443 if parts.scheme == "https" else 80)
        last_error: OSError | None = None
        while time.monotonic() < deadline:
            try:
                _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout=2)
            except (OSError, TimeoutError) as exc:
                last_error = exc if isinstance(exc, OSError) else OSError(str(exc))
                await asyncio.sleep(0.1)
                continue
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return
        raise PlaygroundError(
            f"bot endpoint {self.bot_endpoint} is not accepting connections ({last_error}); "
            "start the bot before the playground"
        )

    def _diagnostics(self) -> str:
        log_tail = ""
        if self.log_path and self.log_path.exists():
            with contextlib.suppress(OSError):
                log_tail = "\n".join(self.log_path.read_text(errors="replace").splitlines()[-20:])
        return (
            f"stdout: {' | '.join(self._stdout_tail)}\nstderr: {' | '.join(self._stderr_tail)}\n"
            f"log ({self.log_path}):\n{log_tail}"
        )

    async def _shutdown(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
            self._reader = None
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
            self._ws = None
        if self._session is not None:
            with contextlib.suppress(Exception):
                await self._session.close()
            self._session = None
        await self._stop_process()
        for task in self._pipe_tasks:
            task.cancel()
        await asyncio.gather(*self._pipe_tasks, return_exceptions=True)
        self._pipe_tasks = []
        if self._owns_workdir and self._workdir is not None:
            await asyncio.to_thread(shutil.rmtree, self._workdir, True)
            self._workdir = None
            self._owns_workdir = False
        self._stream_closed = True

    async def _stop_process(self) -> None:
        process = self._process
        if process is None:
            return
        self._process = None
        # Signal the process group we created (start_new_session), never anything by name.
        for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            if process.returncode is not None:
                break
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, sig)
            try:
                await asyncio.wait_for(process.wait(), timeout=grace)
            except TimeoutError:
                logger.warning("playground pid %s ignored %s", process.pid, sig.name)
        # The leader may be gone while something it spawned lingers in the group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)

    # ---- log stream ------------------------------------------------------------------------------

    async def _read_log_stream(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        try:
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue
                try:
                    item = json.loads(message.data)
                except ValueError:
                    logger.warning("unparsable log stream item: %.200s", message.data)
                    continue
                await self._ingest(item)
        finally:
            self._stream_closed = True
            await self._notify()

    async def _ingest(self, item: dict[str, Any]) -> None:
        if item.get("logAction") != "appendLog":
            return
        log = item.get("log") or {}
        if log.get("type") != "bot":
            # Plain text notices ("Connected.", warnings); kept for diagnostics only.
            self._text_logs.append(log)
            if log.get("level") in ("warning", "error"):
                logger.warning("playground: %s", log.get("displayText"))
            return
        direction: Literal["to_bot", "from_bot"] = "from_bot" if log.get("from") == _FROM_BOT else "to_bot"
        request_body = (log.get("request") or {}).get("body")
        activity = dict(request_body) if isinstance(request_body, dict) else {}
        response = log.get("response") or {}
        message_id = log.get("messageId")
        if direction == "from_bot" and message_id and "id" not in activity:
            # The playground's id for the bot's message is what submit/invoke need as replyToId.
            activity["id"] = message_id
        entry = LogEntry(
            seq=len(self._entries),
            direction=direction,
            activity_name=str(log.get("activityName") or activity.get("type") or ""),
            conversation_id=log.get("conversationId") or (activity.get("conversation") or {}).get("id"),
            message_id=message_id,
            activity=activity,
            status=response.get("statusCode"),
            response=response.get("body"),
            raw=log,
        )
        self._entries.append(entry)
        logger.debug(
            "log %s %s %s %s", entry.direction, entry.activity_name, entry.conversation_id, entry.status
        )
        await self._notify()

    async def _notify(self) -> None:
        if self._changed is None:
            return
        async with self._changed:
            self._changed.notify_all()

    @property
    def notices(self) -> list[str]:
        """The playground's plain-text log lines ("Connected.", warnings such as an unreachable bot)."""
        return [str(log.get("displayText", "")) for log in self._text_logs]

    @property
    def activities(self) -> list[LogEntry]:
        """Every activity seen so far, both directions, in log order (a copy)."""
        return list(self._entries)

    async def wait_for_entry(
        self,
        predicate: Callable[[LogEntry], bool],
        timeout: float = 10.0,
        *,
        after: int = -1,
        what: str = "a matching activity",
    ) -> LogEntry:
        """Wait for the first log entry with ``seq > after`` that satisfies ``predicate``."""
        found = await self._wait_until(lambda: self._first(predicate, after), timeout, what)
        return found

    def _first(self, predicate: Callable[[LogEntry], bool], after: int) -> LogEntry | None:
        return next((e for e in self._entries[after + 1 :] if predicate(e)), None)

    async def _wait_until(self, probe: Callable[[], _T | None], timeout: float, what: str) -> _T:
        if self._changed is None:
            raise PlaygroundError("the playground is not running")
        try:
            async with asyncio.timeout(timeout), self._changed:
                while True:
                    result = probe()
                    if result is not None:
                        return result
                    if self._stream_closed:
                        raise PlaygroundError(f"log stream closed while waiting for {what}")
                    await self._changed.wait()
        except TimeoutError:
            raise TimeoutError(f"no {what} within {timeout} s; seen so far:\n{self._summary()}") from None

    def _summary(self, limit: int = 15) -> str:
        lines = [
            f"  #{e.seq} {e.direction} {e.activity_name} conv={e.conversation_id} status={e.status} "
            f"text={str(e.activity.get('text', ''))[:60]!r}"
            for e in self._entries[-limit:]
        ]
        return "\n".join(lines) or "  (nothing)"

    def _bot_message_entries(self, conversation_id: str, include_updates: bool) -> list[LogEntry]:
        return [
            e
            for e in self._entries
            if e.is_bot_message
            and (include_updates or not e.is_update)
            and _conversation_matches(conversation_id, e.conversation_id)
        ]

    def bot_messages(self, conversation_id: str, *, include_updates: bool = True) -> list[dict[str, Any]]:
        """Every message the bot posted (and, by default, every edit) in this conversation so far.

        A channel id also matches its threads. Non-blocking; does not affect ``wait_for_bot_messages``.
        """
        return [dict(e.activity) for e in self._bot_message_entries(conversation_id, include_updates)]

    async def wait_for_bot_messages(
        self, conversation_id: str, count: int = 1, timeout: float = 10.0, *, include_updates: bool = True
    ) -> list[dict[str, Any]]:
        """Return the next ``count`` bot messages in this conversation not returned by an earlier call.

        Each bot message is handed out once, oldest first, so consecutive calls walk the conversation.
        A channel id also matches its threads (``CHANNEL;messageid=N``); a thread id matches only itself.
        The dicts are the activities as the bot sent them, plus ``id`` = the playground's message id.
        Edits (``update_activity``) count as messages unless ``include_updates=False``; an edit carries
        the id of the message it replaces. Typing indicators never count.

        Raises:
            TimeoutError: fewer than ``count`` arrived in time (the message lists what was seen).
        """

        def probe() -> list[LogEntry] | None:
            fresh = [
                e
                for e in self._bot_message_entries(conversation_id, include_updates)
                if e.seq not in self._consumed
            ]
            return fresh[:count] if len(fresh) >= count else None

        taken = await self._wait_until(probe, timeout, f"{count} bot message(s) in {conversation_id}")
        self._consumed.update(e.seq for e in taken)
        return [dict(e.activity) for e in taken]

    # ---- HTTP --------------------------------------------------------------------------------------

    @property
    def config(self) -> PlaygroundConfig:
        """The mocked tenant (bot, user, chats, team and channels)."""
        if self._config is None:
            raise PlaygroundError("the playground is not running")
        return self._config

    async def _request(
        self, method: str, path: str, *, json_body: Any = None, params: dict[str, str] | None = None
    ) -> Any:
        if self._session is None:
            raise PlaygroundError("the playground is not running")
        # Already percent-encoded by the callers (conversation ids contain ';' and '=').
        url = URL(f"{self.base_url}{path}", encoded=True)
        async with self._session.request(method, url, json=json_body, params=params) as response:
            text = await response.text()
            if response.status >= 400:
                raise PlaygroundError(f"{method} {path} answered {response.status}: {text[:500]}")
            if not text:
                return None
            try:
                return json.loads(text)
            except ValueError:
                return text

    def _user(self) -> dict[str, str]:
        # Always the configured current user: for messages the playground only checks that ``from`` is a
        # member and then sends as the current user anyway. Use a config file (or custom_activity
        # overrides) to act as someone else.
        return {"id": self.config.user_id}

    def _last_seq(self) -> int:
        return len(self._entries) - 1

    async def _await_delivery(
        self, after: int, predicate: Callable[[LogEntry], bool], what: str, timeout: float
    ) -> LogEntry:
        entry = await self.wait_for_entry(
            lambda e: e.direction == "to_bot" and predicate(e), timeout, after=after, what=what
        )
        if entry.status is None or entry.status >= 400:
            raise PlaygroundError(f"the bot answered {entry.status} to {what}: {entry.response!r}")
        return entry

    async def send(
        self,
        conversation_id: str,
        text: str,
        mention_bot: bool = False,
        *,
        wait: bool = True,
        timeout: float = 10.0,
    ) -> SendResult:
        """Post ``text`` as the user into a personal chat, group chat, channel or thread.

        With ``mention_bot`` the text becomes ``<at>BOT</at> text`` with a mention entity, as Teams
        needs for the bot to see channel and group chat messages at all. A post to a channel (not a
        thread) starts a thread: ``conversation_id`` of the result is that thread.

        With ``wait`` (and a bot that will receive it) this returns once the bot has answered the
        turn's HTTP request, so in-turn replies are already collected; a 4xx/5xx answer from the bot
        raises ``PlaygroundError``.
        """
        body: dict[str, Any] = {"from": self._user(), "text": text, "textFormat": "plain"}
        if mention_bot:
            at = f"<at>{self.config.bot_name}</at>"
            body["text"] = f"{at} {text}"
            body["mentions"] = [
                {"mentioned": {"id": self.config.bot_id, "name": self.config.bot_name}, "text": at}
            ]
        after = self._last_seq()
        answer = (
            await self._request(
                "POST",
                f"/_conversation/v1/conversations/{quote(conversation_id, safe='')}/messages",
                json_body=body,
            )
            or {}
        )
        post_conversation_id = answer.get("postConversationId")
        effective = post_conversation_id or conversation_id
        delivered: LogEntry | None = None
        reaches_bot = mention_bot or not (
            self.config.is_channel(conversation_id) or self.config.is_group_chat(conversation_id)
        )
        if wait and reaches_bot:
            delivered = await self._await_delivery(
                after,
                lambda e: (
                    e.activity.get("type") == "message"
                    and e.conversation_id == effective
                    and e.activity.get("text") == body["text"]
                ),
                f"delivery of {body['text']!r} to the bot in {effective}",
                timeout,
            )
        return SendResult(
            message_id=str(answer.get("messageId", "")),
            conversation_id=effective,
            post_conversation_id=post_conversation_id,
            activity_id=delivered.activity.get("id") if delivered else None,
            bot_status=delivered.status if delivered else None,
            raw=answer,
        )

    async def install(self, conversation_id: str, *, wait: bool = True, timeout: float = 10.0) -> None:
        """Install the bot in a conversation: it receives installationUpdate (add) then conversationUpdate.

        With ``wait`` this returns once the bot has answered both.
        """
        after = self._last_seq()
        await self._request(
            "POST", f"/_debug/conversation/{quote(conversation_id, safe='')}/installation", json_body={}
        )
        if wait:
            for activity_type in ("installationUpdate", "conversationUpdate"):
                await self._await_delivery(
                    after,
                    lambda e, t=activity_type: (
                        e.activity.get("type") == t
                        and _conversation_matches(conversation_id, e.conversation_id)
                    ),
                    f"{activity_type} (installation) in {conversation_id}",
                    timeout,
                )

    async def activity_template(self, template_type: str, conversation_id: str) -> dict[str, Any]:
        """The ready-made activity the playground would send for ``template_type`` (see module docstring)."""
        template = await self._request(
            "GET",
            "/_internal/v1/customActivities/template",
            params={"conversationId": conversation_id, "type": template_type},
        )
        if not isinstance(template, dict):
            raise PlaygroundError(f"unexpected template answer for {template_type!r}: {template!r}")
        return template

    async def custom_activity(
        self,
        template_type: str,
        conversation_id: str,
        *,
        wait: bool = True,
        timeout: float = 10.0,
        **overrides: Any,
    ) -> dict[str, Any]:
        """Send the playground's ``template_type`` activity, deep-merged with ``overrides``; return it.

        With ``wait`` this returns once the bot has answered it (4xx/5xx raises ``PlaygroundError``).
        """
        activity = _deep_merge(await self.activity_template(template_type, conversation_id), overrides)
        after = self._last_seq()
        await self._request("POST", "/_internal/v1/customActivities", json_body=activity)
        if wait and activity.get("id"):
            await self._await_delivery(
                after,
                lambda e: e.activity.get("id") == activity["id"],
                f"delivery of custom {template_type} activity",
                timeout,
            )
        return activity

    async def submit(
        self,
        conversation_id: str,
        card_message_id: str,
        value: dict[str, Any],
        *,
        wait: bool = True,
        timeout: float = 10.0,
    ) -> None:
        """Press an Action.Submit button on the bot's card message ``card_message_id`` (only ``value`` is sent).

        With ``wait`` this returns once the bot has answered the resulting message activity.
        """
        after = self._last_seq()
        await self._request(
            "POST",
            "/_conversation/v1/submit",
            json_body={
                "conversation": {"id": conversation_id},
                "from": self._user(),
                "replyToId": card_message_id,
                "value": value,
            },
        )
        if wait:
            await self._await_delivery(
                after,
                lambda e: (
                    e.activity.get("type") == "message"
                    and e.conversation_id == conversation_id
                    and e.activity.get("value") == value
                ),
                f"delivery of the submit on {card_message_id}",
                timeout,
            )

    async def invoke(
        self, conversation_id: str, name: str, value: dict[str, Any], *, timeout: float = 10.0
    ) -> dict[str, Any]:
        """Send the invoke ``name`` with ``value`` as the current user; return the bot's answer body.

        Message-extension invokes the playground knows (``composeExtension/query``, ``queryLink``,
        ``fetchTask``, ``submitAction``) go through ``/_conversation/v1/invoke`` as its compose box
        sends them. Others it has no UI for (``task/fetch``, ``task/submit``, ``application/search``)
        go as a custom activity of type ``invoke`` built on its own template for that conversation,
        so ``conversation``, ``serviceUrl`` and ``channelData`` are the playground's own, and ``from`` is
        its current user (the install template's ``from`` carries no name).
        Either way the bot's full answer is read from the log stream (issue 15).
        """
        after = self._last_seq()
        if name.startswith("composeExtension/"):
            answer = await self._request("POST", "/_conversation/v1/invoke", json_body={
                "name": name, "value": value, "from": self._user(), "conversation": {"id": conversation_id},
            })  # fmt: skip
            with contextlib.suppress(TimeoutError):
                entry = await self.wait_for_entry(
                    lambda e: e.direction == "to_bot" and e.activity.get("name") == name,
                    timeout=2.0, after=after, what=f"the {name} log item",
                )  # fmt: skip
                if isinstance(entry.response, dict):
                    return entry.response
            return answer if isinstance(answer, dict) else {"body": answer}
        template = await self.activity_template("install", conversation_id)
        activity = {
            k: v for k, v in template.items() if k not in ("action", "membersAdded", "membersRemoved")
        }
        current = self.config.raw["config"]["currentUser"]
        activity.update(type="invoke", name=name, value=value, id=f"invoke-{time.monotonic_ns()}",
                        **{"from": {"id": current["id"], "name": current.get("name", ""),
                                    "aadObjectId": current.get("aadObjectId")}})  # fmt: skip
        await self._request("POST", "/_internal/v1/customActivities", json_body=activity)
        entry = await self._await_delivery(
            after, lambda e: e.activity.get("id") == activity["id"], f"the {name} invoke", timeout
        )
        return entry.response if isinstance(entry.response, dict) else {"body": entry.response}

    async def invoke_execute(
        self,
        conversation_id: str,
        card_message_id: str,
        verb: str,
        data: dict[str, Any] | None,
        title: str = "",
    ) -> dict[str, Any]:
        """Press an Action.Execute button: send the ``adaptiveCard/action`` invoke; return the bot's answer.

        ``card_message_id`` must be a message the playground knows (the ``id`` of a bot message).
        Returns the invoke response body exactly as the bot sent it, e.g.
        ``{"statusCode": 200, "type": "application/vnd.microsoft.card.adaptive", "value": {...card}}``:
        the playground's own HTTP answer keeps only ``type`` and ``value``, so the body is taken from
        the log stream (falling back to the HTTP answer if that item does not show up).
        A bot failure surfaces as ``PlaygroundError`` (the playground answers 502 ``UserBotError``).
        """
        after = self._last_seq()
        answer = await self._request(
            "POST",
            "/_conversation/v1/invoke",
            json_body={
                "name": "adaptiveCard/action",
                "value": {
                    "action": {"type": "Action.Execute", "title": title, "verb": verb, "data": data or {}}
                },
                "from": self._user(),
                "conversation": {"id": conversation_id},
                "replyToId": card_message_id,
            },
        )
        with contextlib.suppress(TimeoutError):
            entry = await self.wait_for_entry(
                lambda e: (
                    e.direction == "to_bot"
                    and e.activity.get("name") == "adaptiveCard/action"
                    and e.activity.get("replyToId") == card_message_id
                ),
                timeout=2.0,
                after=after,
                what="the invoke's log item",
            )
            if isinstance(entry.response, dict):
                return entry.response
        return answer if isinstance(answer, dict) else {"body": answer}
