"""Structured logging: one JSON object per line, secrets scrubbed."""

from __future__ import annotations

import json
import logging
import re
import sys

_SECRET = re.compile(r"(?i)(bearer\s+)[a-z0-9._~+/=-]{8,}|(client_secret=)[^&\s]+|(password[\"']?\s*[:=]\s*[\"']?)[^\s\"',]+")
_STANDARD = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


def scrub(text: str) -> str:
    """Remove tokens and secrets from a log line."""
    return _SECRET.sub(lambda m: (m.group(1) or m.group(2) or m.group(3) or "") + "[redacted]", text)


class JsonFormatter(logging.Formatter):
    """{"ts", "level", "logger", "msg", ...extra fields such as activity and conversation ids}."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": scrub(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = scrub(str(value)) if isinstance(value, str) else value
        if record.exc_info:
            out["trace"] = scrub(self.formatException(record.exc_info))
        return json.dumps(out, default=str, ensure_ascii=False)


def setup_logging(level: str = "INFO", *, json_lines: bool = True) -> None:
    """Configure the root logger once, at process start (CLI entry points call this)."""
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        fmt: logging.Formatter = JsonFormatter()
        fmt.converter = __import__("time").gmtime
    else:
        fmt = logging.Formatter("%(levelname)s %(name)s: %(message)s")
    handler.setFormatter(fmt)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiohttp.access", "sqlalchemy.engine", "msrest", "urllib3"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
