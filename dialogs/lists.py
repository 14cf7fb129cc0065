"""Lists: outstanding, overdue, due. Filters over the in-memory read model, paginated."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

from rapidfuzz import fuzz

from dialogs.cards import choice_card, list_card, report_name
from dialogs.deps import Deps
from dialogs.frozen import FrozenCard
from dialogs.language import Intent, Parsed
from dialogs.queries import ListQuery
from dialogs.state import Pending, Stage, StateChange
from dialogs.types import Outcome, Reply, Turn
from storage.readmodel import ReadModel
from storage.views import ItemView

PAGE_SIZE = 8


async def list_handler(deps: Deps, parsed: Parsed, turn: Turn) -> Outcome:
    """Outstanding, overdue and due lists; asks which report when the words fit several."""
    query = query_from(parsed, turn)
    if parsed.needs_clarification and parsed.report_candidates:
        base = Pending(stage=Stage.CHOOSE, intent=parsed.intent, user=turn.user_key, expires=turn.expiry, query=query)
        return ask_which_report(parsed, base)
    return run_list(query, deps.model, turn.today)


def ask_which_report(parsed: Parsed, base: Pending) -> Outcome:
    """Several reports fit a list request: let the person pick one."""
    token = uuid.uuid4().hex
    reports = parsed.report_candidates[:6]
    options = [(r.title, {"token": token, "report": r.key}) for r in reports]
    card, fallback = choice_card("Which report do you mean?", options)
    pending = dataclasses.replace(base, stage=Stage.CHOOSE, token=token, reports=tuple(r.key for r in reports))
    return Outcome(replies=[Reply(fallback, card)]).also(pending=pending)



def query_from(parsed: Parsed, turn: Turn) -> ListQuery:
    """The list a parsed request describes ("mine" means the person asking)."""
    p = parsed.period
    return ListQuery(
        query=parsed.intent.value if parsed.intent in (Intent.OVERDUE, Intent.DUE) else "outstanding",
        report=parsed.report.key if parsed.report else None,
        kind=parsed.kind,
        owner=None if parsed.mine else parsed.owner,
        owner_aad_id=turn.user.aad_id if parsed.mine else None,
        theme=parsed.theme,
        before=p.before.isoformat() if p and p.before else None,
        after=p.after.isoformat() if p and p.after else None,
        label=p.label if p else None,
    )


def matches(item: ItemView, q: ListQuery, report_id: int | None, today: dt.date) -> bool:
    """Does ``item`` belong in the list ``q`` describes?"""
    if report_id is not None and item.report_id != report_id:
        return False
    if q.kind and item.kind != q.kind:
        return False
    if q.query == "overdue":
        if not item.overdue(today):
            return False
    elif not item.live or not item.for_force:
        return False
    if q.query == "due":
        if item.due_date is None:
            return False
        if q.before and item.due_date > dt.date.fromisoformat(q.before):
            return False
        if q.after and item.due_date < dt.date.fromisoformat(q.after):
            return False
        if not q.before and not q.after and item.due_date < today:
            return False
    if q.owner_aad_id and (item.owner_aad_id or "").lower() != q.owner_aad_id.lower():
        return False
    if q.owner and fuzz.partial_ratio(q.owner.lower(), (item.owner_name or "").lower()) < 80:
        return False
    return not (q.theme and not any(fuzz.partial_ratio(q.theme.lower(), t.lower()) >= 85 for t in item.themes))


def sort_key(item: ItemView) -> tuple[Any, ...]:
    return (item.due_date or dt.date.max, item.report_id, item.kind, _num_key(item.number), item.id)


def _num_key(number: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in number.split(".")) if number else (10**6,)
    except ValueError:
        return (10**6,)


def title_for(q: ListQuery, model: ReadModel) -> tuple[str, str]:
    """(title, what to say when the list is empty)."""
    what = {"recommendation": "recommendations", "afi": "areas for improvement", "cause_of_concern": "causes of concern"}.get(q.kind or "", "items")
    report = model.reports_by_key.get(q.report) if q.report else None
    where = f" from {report_name(report)}" if report else ""
    who = f" owned by {q.owner}" if q.owner else (" owned by you" if q.owner_aad_id else "")
    theme = f" on {q.theme}" if q.theme else ""
    if q.query == "overdue":
        title = f"Overdue {what}{where}{who}{theme}"
        return title, "Nothing is overdue. 🎉" if not (where or who or theme) else "None of those is overdue."
    if q.query == "due":
        label = q.label or "soon"
        return f"Live {what}{where}{who}{theme} due {label}".replace("due due", "due"), f"Nothing{where}{who} is due {label}."
    return f"Outstanding {what}{where}{who}{theme}", f"Nothing outstanding{where}{who}{theme}."


def find(q: ListQuery, model: ReadModel, today: dt.date) -> list[ItemView]:
    """Every item the list ``q`` describes, sorted (memoised until the items change)."""
    report = model.reports_by_key.get(q.report) if q.report else None
    key = ("list", q.query, q.report, q.kind, q.owner, q.owner_aad_id, q.theme, q.before, q.after, today)

    def build() -> list[ItemView]:
        pool = model.items_of_report(report.id) if report else model.items.values()
        return sorted((i for i in pool if matches(i, q, report.id if report else None, today)), key=sort_key)

    return model.memo(key, build)


def run_list(q: ListQuery, model: ReadModel, today: dt.date) -> Outcome:
    """Build one page of a list."""
    report = model.reports_by_key.get(q.report) if q.report else None
    found = find(q, model, today)
    total = len(found)
    page = min(q.page, max(0, (total - 1) // PAGE_SIZE))
    items = found[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    more = None
    if (page + 1) * PAGE_SIZE < total:
        more = ListQuery(**{**q.to_data(), "page": page + 1}).to_data()
    title, empty = title_for(q, model)

    def build() -> tuple[dict[str, Any], str]:
        card, fallback = list_card(
            title, items, model.reports, today, total=total, page=page, page_size=PAGE_SIZE, more=more, empty=empty
        )
        return FrozenCard(card).with_fallback(fallback[:4000]), fallback

    # The same page of the same list is the same card until the items change (cards are never
    # modified after they are built, so sharing one is safe).
    card, fallback = model.memo(("page", tuple(sorted(q.to_data().items())), page, today), build)
    state = StateChange(last_list=ListQuery.from_data(more) if more else None)
    if report:
        state = state.merged(StateChange(last_report=report.key))
    return Outcome(replies=[Reply(fallback, card)], state=state)
