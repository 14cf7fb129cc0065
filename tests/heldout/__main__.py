"""``python -m tests.heldout [--verbose]``: score the held-out set and print the figures."""

from __future__ import annotations

import argparse
import logging
import sys

from tests.heldout.score import report, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.heldout", description=__doc__)
    parser.add_argument("--verbose", "-v", action="store_true", help="list every miss")
    args = parser.parse_args(argv)
    logging.disable(logging.INFO)  # the demo seed's progress lines are not the figures
    print(report(run(), verbose=args.verbose))
    return 0


if __name__ == "__main__":
    sys.exit(main())
