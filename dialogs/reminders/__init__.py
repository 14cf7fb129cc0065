"""Owner reminders (issue 15), modelled on the digest: when (:mod:`.schedule`), what each person is
told (:mod:`.card`), posting it once per person per period across instances (:mod:`.sender`, on the
delivery ledger in ``storage.deliveries``), and "remind me" / "stop reminding me" (:mod:`.chat`)."""

from dialogs.reminders.card import reminder_items, reminder_reply
from dialogs.reminders.schedule import ReminderSchedule
from dialogs.reminders.sender import ReminderSender, run_reminders

__all__ = ["ReminderSchedule", "ReminderSender", "reminder_items", "reminder_reply", "run_reminders"]
