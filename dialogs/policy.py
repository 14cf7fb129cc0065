"""Who may do what. Anyone in the tenant can read; writes depend on the item and the person."""

from __future__ import annotations

from dataclasses import dataclass

from dialogs.language import Intent
from storage.views import Actor, ItemView

OWNER_OR_EDITOR = frozenset({Intent.MARK_EVIDENCED, Intent.ADD_UPDATE})
ADMIN_ONLY = frozenset({Intent.SIGN_OFF, Intent.REOPEN, Intent.ASSIGN})
EDITOR_ONLY = frozenset({Intent.SUBSCRIBE, Intent.UNSUBSCRIBE})
# Moving a target date is a governance decision the SD&A team records once it is agreed: editors and
# admins, not the item's owner (committees watch re-targeting because owners would like more time).
EDITOR_OR_ADMIN_TARGETS = frozenset({Intent.RETARGET})
# The committee's record (its meetings, the paper it is sent) is the SD&A admins'.
ADMIN_COMMITTEE = frozenset({Intent.RECORD_MEETING, Intent.COMMITTEE_PACK})
MOVE_TARGET_REFUSAL = "Only the SD&A editors and admins can move a target date. Add an update asking them to."
COMMITTEE_REFUSAL = "Only the SD&A tracker admins can record committee meetings or write the committee paper."


@dataclass(frozen=True)
class Policy:
    """Role lists are AAD object ids. ``open_writes``: local use, everyone may write."""

    editors: frozenset[str] = frozenset()
    admins: frozenset[str] = frozenset()
    open_writes: bool = False

    def allowed(self, action: Intent, user: Actor, item: ItemView | None = None) -> tuple[bool, str]:
        """(allowed, reason to give when not)."""
        if self.open_writes:
            return True, ""
        uid = (user.aad_id or "").lower()
        is_admin = uid in self.admins
        is_editor = is_admin or uid in self.editors
        if action in ADMIN_ONLY:
            return (
                is_admin,
                "Only the SD&A tracker admins can do that. Ask one of them, or add an update instead.",
            )
        if action in OWNER_OR_EDITOR:
            owner = bool(item and item.owner_aad_id and item.owner_aad_id.lower() == uid and uid)
            return (
                owner or is_editor,
                "Only the item's owner or the SD&A editors can record evidence or updates on it.",
            )
        if action in EDITOR_OR_ADMIN_TARGETS:
            return is_editor, MOVE_TARGET_REFUSAL
        if action in ADMIN_COMMITTEE:
            return is_admin, COMMITTEE_REFUSAL
        if action in EDITOR_ONLY:
            return is_editor, "Only the SD&A editors can change where the digest is posted."
        return True, ""

    @classmethod
    def from_lists(cls, editors: set[str], admins: set[str], *, auth_enabled: bool) -> Policy:
        """With no lists and no auth (local use) everyone may write; with auth, writes need the lists."""
        return cls(
            editors=frozenset(e.lower() for e in editors),
            admins=frozenset(a.lower() for a in admins),
            open_writes=not auth_enabled and not editors and not admins,
        )
