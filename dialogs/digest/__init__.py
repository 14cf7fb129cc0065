"""The weekly status digest, as one feature: when (:mod:`.schedule`), what (:mod:`.source`, built
into a card by :mod:`.card`), and posting it once per conversation per week (:mod:`.sender`, on the
delivery ledger in ``storage.deliveries``)."""

from dialogs.digest.card import build_digest
from dialogs.digest.schedule import next_run, previous_run, this_weeks_run, week_key
from dialogs.digest.sender import DigestConfig, DigestSender, RunReport, Schedule, digest_reply, run_schedule
from dialogs.digest.source import DigestSource

__all__ = [
    "DigestConfig", "DigestSender", "DigestSource", "RunReport", "Schedule", "build_digest", "digest_reply",
    "next_run", "previous_run", "run_schedule", "this_weeks_run", "week_key",
]  # fmt: skip
