"""Structured logging: one JSON object per line, secrets scrubbed, turn ids on every line.

While a turn runs, :func:`turn_log_context` records its activity and conversation ids in a
context variable; :class:`JsonFormatter` adds them to every line logged in that context, from
any module (the adapter, the dialogs, the store, the HTTP client), without each call passing them.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
import time
from collections.abc import Iterator

# What a secret looks like in a log line, and what stays of it: a bearer token; a secret-named
# field in form, JSON, repr or key=value style; a bare JWT; the password in a URL's userinfo.
_SECRETS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)(bearer\s+)[a-z0-9._~+/=-]{8,}"), r"\1[redacted]"),
    (re.compile(r"(?i)((?:client_secret|password|passwd|access_token|refresh_token|id_token|secret)[\"']?\s*[:=]\s*[\"']?)[^\s\"',&]+"),
     r"\1[redacted]"),
    (re.compile(r"\beyJ[a-zA-Z0-9_-]{6,}\.[a-zA-Z0-9_-]{6,}\.[a-zA-Z0-9_-]*"), "[redacted]"),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+@"), r"\1[redacted]@"),
)  # fmt: skip
_STANDARD = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}

# A ContextVar is per-task state, not a shared live object: each aiohttp request runs in its own
# task, so concurrent turns never see each other's ids, and tasks a turn starts (the typing
# indicator) inherit them. It has to be module-level for the formatter to find it.
_TURN: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "tracker_turn_log", default=None
)


def scrub(text: str) -> str:
    """Remove tokens and secrets from a log line."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


@contextlib.contextmanager
def turn_log_context(*, activity_id: str | None, conversation_id: str | None) -> Iterator[None]:
    """Tag every log line emitted inside the block with these ids (``None`` ones are left out)."""
    fields = {
        k: v[:200] for k, v in (("activity_id", activity_id), ("conversation_id", conversation_id)) if v
    }
    token = _TURN.set(fields)
    try:
        yield
    finally:
        _TURN.reset(token)


def current_turn_fields() -> dict[str, str]:
    """The ids of the turn being logged right now (empty outside a turn)."""
    return dict(_TURN.get() or {})


class JsonFormatter(logging.Formatter):
    """{"ts", "level", "logger", "msg", "activity_id", "conversation_id", ...extra fields}."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": scrub(record.getMessage()),
        }
        for key, value in current_turn_fields().items():
            out[key] = scrub(value)
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = scrub(str(value)) if isinstance(value, str) else value
        if record.exc_info:
            out["trace"] = scrub(self.formatException(record.exc_info))
        elif record.exc_text:
            out["trace"] = scrub(record.exc_text)
        if record.stack_info:
            out["stack"] = scrub(self.formatStack(record.stack_info))
        return json.dumps(out, default=str, ensure_ascii=False)


def json_formatter() -> JsonFormatter:
    """A JSON formatter with UTC timestamps (the ``Z`` the lines carry)."""
    fmt = JsonFormatter()
    fmt.converter = time.gmtime
    return fmt


def setup_logging(level: str = "INFO", *, json_lines: bool = True) -> None:
    """Configure the root logger once, at process start (CLI entry points call this)."""
    handler = logging.StreamHandler(sys.stderr)
    fmt: logging.Formatter = (
        json_formatter() if json_lines else logging.Formatter("%(levelname)s %(name)s: %(message)s")
    )
    handler.setFormatter(fmt)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiohttp.access", "sqlalchemy.engine", "msrest", "urllib3"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
