"""What a serving instance loads: the heavy libraries only some commands need stay out of it.

openpyxl (with the numpy it pulls in) costs ~33 MB of every instance's memory and 0.2 s of its
start; python-docx and matplotlib more. They are for imports, exports and the committee paper,
so the modules `tracker serve` loads must not import them at module level (issue 17's memory goal).
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO

HEAVY = ("openpyxl", "numpy", "docx", "matplotlib", "PIL")
_PROBE = (
    "import json, sys\n"
    "import bot.app, bot.services, bot.cli\n"
    "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
)


def _loaded() -> set[str]:
    out = subprocess.run([sys.executable, "-c", _PROBE], cwd=REPO, capture_output=True, text=True,
                         timeout=60, check=True)  # fmt: skip
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_serving_modules_leave_the_document_and_spreadsheet_libraries_unloaded() -> None:
    loaded = _loaded()
    assert "bot" in loaded and "sqlalchemy" in loaded  # the probe did load the app
    assert not loaded & set(HEAVY), f"loaded at start-up: {sorted(loaded & set(HEAVY))}"
    assert "asyncpg" not in loaded  # an instance on SQLite never needs the PostgreSQL driver


def test_a_spreadsheet_serial_is_still_read_once_openpyxl_is_loaded_on_demand() -> None:
    import datetime as dt

    from storage.partial_dates import PartialDate, read_date

    assert read_date("45016") == PartialDate(dt.date(2023, 3, 31))  # Excel's serial for 31 March 2023
