"""Load benchmark harness: a mock Bot Connector, a closed-loop load generator and a runner.

Entry point: ``python -m bench.run`` (see ``bench/run.py`` for how to add a target).
"""
