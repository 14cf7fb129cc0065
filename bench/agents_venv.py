"""The Agents SDK peer's own virtualenv: ``bench/.venv-agents``, made on demand from a pinned list.

The project depends on botbuilder 4.17.1; the Microsoft 365 Agents SDK brings its own aiohttp,
pydantic and friends. Keeping the peer in a separate, git-ignored virtualenv leaves the project's
dependencies exactly as they are. :func:`ensure` (re)creates it when it is missing or when
``bench/agents-requirements.txt`` changed (a stamp holds the file's hash), with ordinary
``python -m venv`` and ``pip install -r``, bounded in time.

``python -m bench.agents_venv`` prepares it ahead of a run.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import sys
from pathlib import Path

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / "bench" / ".venv-agents"
REQUIREMENTS = REPO / "bench" / "agents-requirements.txt"
STAMP = VENV / ".requirements-sha256"
PYTHON = VENV / "bin" / "python"


def _wanted() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()


def ready() -> bool:
    """The virtualenv exists and was built from the current requirements."""
    return PYTHON.exists() and STAMP.exists() and STAMP.read_text().strip() == _wanted()


def ensure(timeout_s: float = 600.0) -> Path:
    """Create or refresh the virtualenv if needed; returns its interpreter. Raises on failure."""
    if ready():
        return PYTHON
    log.info("creating %s from %s (once)", VENV.relative_to(REPO), REQUIREMENTS.relative_to(REPO))
    shutil.rmtree(VENV, ignore_errors=True)
    base = sys.executable  # the project's Python 3.11: the peer runs on the same interpreter version
    subprocess.run([base, "-m", "venv", str(VENV)], check=True, timeout=timeout_s)
    subprocess.run(
        [
            str(PYTHON),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            str(REQUIREMENTS),
        ],
        check=True,
        timeout=timeout_s,
    )
    STAMP.write_text(_wanted() + "\n")
    return PYTHON


def sdk_version() -> str | None:
    """The installed microsoft-agents-hosting-aiohttp version, or None when the venv is absent."""
    if not PYTHON.exists():
        return None
    try:
        out = subprocess.run(
            [str(PYTHON), "-c", "from importlib.metadata import version; print(version('microsoft-agents-hosting-aiohttp'))"],
            capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    print(ensure())
