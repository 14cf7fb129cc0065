"""The held-out evaluation of the language understanding (issue 12, point 11).

Phrasings written for the three roles, kept apart from the tuning examples in
``tests/unit/test_understand.py``, scored against the demo data by ``python -m tests.heldout``.
"""
