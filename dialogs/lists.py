"""Lists: outstanding, overdue, due. Filters over the in-memory read model, paginated."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import uuid
from typing import Any

from rapidfuzz import fuzz

from dialogs.cards import STATUS_LABEL, choice_card, list_card, report_name
from dialogs.deps import Deps
from dialogs.frozen import FrozenCard
from dialogs.language import Intent, Parsed
from dialogs.language.mentions import peel_question_of
from dialogs.language.text import name_words, same_person, stem, words_of
from dialogs.queries import ListQuery
from dialogs.state import Pending, Stage, StateChange
from dialogs.surfaces import SurfaceVerb, with_refresh
from dialogs.types import Outcome, Reply, Turn
from storage.readmodel import ReadModel
from storage.views import ItemView

PAGE_SIZE = 8


async def list_handler(deps: Deps, parsed: Parsed, turn: Turn) -> Outcome:
    """Outstanding, overdue and due lists; asks which report when the words fit several."""
    query = query_from(parsed, turn)
    if parsed.needs_clarification and parsed.report_candidates:
        base = Pending(
            stage=Stage.CHOOSE, intent=parsed.intent, user=turn.user_key, expires=turn.expiry, query=query
        )
        return ask_which_report(parsed, base)
    out = run_list(query, deps.model, turn.today)
    if parsed.mine and turn.user.aad_id:
        unlinked = linked_by_name(find(query, deps.model, turn.today), query)
        if unlinked:
            offer = deps.writes.propose_link(unlinked, turn)
            out.replies.extend(offer.replies)
            out.state = (out.state or StateChange()).merged(offer.state or StateChange())
    return out


def ask_which_report(parsed: Parsed, base: Pending) -> Outcome:
    """Several reports fit a list request: let the person pick one."""
    token = uuid.uuid4().hex
    reports = parsed.report_candidates[:6]
    options = [(r.title, {"token": token, "report": r.key}) for r in reports]
    card, fallback = choice_card("Which report do you mean?", options)
    pending = dataclasses.replace(
        base, stage=Stage.CHOOSE, token=token, reports=tuple(r.key for r in reports)
    )
    return Outcome(replies=[Reply(fallback, card)]).also(pending=pending)


def query_from(parsed: Parsed, turn: Turn) -> ListQuery:
    """The list a parsed request describes ("mine" means the person asking)."""
    p = parsed.period
    addressee = (parsed.addressee.body or parsed.addressee.side) if parsed.addressee else None
    return ListQuery(
        query=parsed.intent.value if parsed.intent in (Intent.OVERDUE, Intent.DUE) else "outstanding",
        report=parsed.report.key if parsed.report else None,
        kind=parsed.kind,
        owner=None if parsed.mine else parsed.owner,
        owner_aad_id=(turn.user.aad_id or f"name:{turn.user.name}") if parsed.mine else None,
        mine_name=turn.user.name if parsed.mine else None,
        theme=parsed.theme,
        before=p.before.isoformat() if p and p.before else None,
        after=p.after.isoformat() if p and p.after else None,
        label=p.label if p else None,
        status=",".join(parsed.status) or None,
        department=parsed.department,
        addressee=addressee,
        peel=str(parsed.peel_question) if parsed.peel_question else None,
    )


def matches(
    item: ItemView,
    q: ListQuery,
    report_id: int | None,
    today: dt.date,
    statuses: frozenset[str] | None = None,
) -> bool:
    """Does ``item`` belong in the list ``q`` describes? (``statuses``: ``q.statuses``, when the
    caller asks about many items.)"""
    if report_id is not None and item.report_id != report_id:
        return False
    if q.kind and item.kind != q.kind:
        return False
    if statuses is None:
        statuses = q.statuses
    if q.query == "overdue":
        if not item.overdue(today):
            return False
    elif statuses:
        if item.status not in statuses:
            return False  # a status asked for is the filter, live or not ("the signed off ones")
    elif q.addressee in ("other", "both") or (q.addressee and q.addressee not in ("force",)):
        if not item.live and item.status != "not_for_us":
            return False
    elif not item.live or not item.for_force:
        return False
    if q.addressee and not _addressed(item, q.addressee):
        return False
    if q.query == "due":
        target = item.target_date
        if target is None:
            return False
        if q.before and target > dt.date.fromisoformat(q.before):
            return False
        if q.after and target < dt.date.fromisoformat(q.after):
            return False
        if not q.before and not q.after and target < today:
            return False
    if q.owner_aad_id and not _mine(item, q):
        return False
    if q.owner and not _owned_by(item.owner_name, q.owner):
        return False
    if q.department and not _in_department(item.owner_name, q.department):
        return False
    if q.peel and _peel_question(item.text) != int(q.peel):
        return False
    return not (q.theme and not _has_theme(item.themes, q.theme))


def _mine(item: ItemView, q: ListQuery) -> bool:
    """The asker's own: linked to their Teams identity, or (not yet linked) owned under their name."""
    aad = (q.owner_aad_id or "").lower()
    if item.owner_aad_id:
        return item.owner_aad_id.lower() == aad
    return bool(q.mine_name) and _same(item.owner_name, q.mine_name)


@functools.lru_cache(maxsize=4096)
def _same(owner: str | None, me: str | None) -> bool:
    return same_person(owner, me)


def linked_by_name(items: list[ItemView], q: ListQuery) -> list[ItemView]:
    """Of the asker's items, those matched by name only: the ones to offer to link."""
    return [i for i in items if not i.owner_aad_id and q.mine_name and _same(i.owner_name, q.mine_name)]


@functools.lru_cache(maxsize=4096)
def _owner_words(owner: str) -> frozenset[str]:
    return frozenset(name_words(owner))


@functools.lru_cache(maxsize=4096)
def _owned_by(owner_name: str | None, asked: str) -> bool:
    """ "Sarah Khan", "DCI Khan", "june smith": every word of the name asked for is in the owner's name."""
    if not owner_name:
        return False
    wanted = _owner_words(asked)
    have = _owner_words(owner_name)
    if wanted and wanted <= have:
        return True
    return fuzz.partial_ratio(asked.lower(), owner_name.lower()) >= 90


@functools.lru_cache(maxsize=4096)
def _in_department(owner_name: str | None, department: str) -> bool:
    return bool(owner_name) and department.lower() in (owner_name or "").lower()


@functools.lru_cache(maxsize=4096)
def _has_theme(themes: tuple[str, ...], theme: str) -> bool:
    return any(fuzz.partial_ratio(theme.lower(), t.lower()) >= 85 for t in themes)


@functools.lru_cache(maxsize=65536)
def _peel_question(text: str) -> int | None:
    return peel_question_of({stem(w) for w in words_of(text)} | set(words_of(text)))


def _addressed(item: ItemView, addressee: str) -> bool:
    if addressee == "force":
        return item.for_force
    if addressee in ("other", "both"):
        return addressee == "both" or not item.for_force or item.status == "not_for_us"
    return addressee.lower() in (item.addressee or "").lower()


def sort_key(item: ItemView) -> tuple[Any, ...]:
    return (item.due_date or dt.date.max, item.report_id, item.kind, _num_key(item.number), item.id)


def _num_key(number: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in number.split(".")) if number else (10**6,)
    except ValueError:
        return (10**6,)


def title_for(q: ListQuery, model: ReadModel) -> tuple[str, str]:
    """(title, what to say when the list is empty)."""
    what = {
        "recommendation": "recommendations",
        "afi": "areas for improvement",
        "cause_of_concern": "causes of concern",
    }.get(q.kind or "", "items")
    report = model.reports_by_key.get(q.report) if q.report else None
    where = f" from {report_name(report)}" if report else ""
    who = f" owned by {q.owner}" if q.owner else (" owned by you" if q.owner_aad_id else "")
    if q.department:
        who += f" in {q.department}"
    theme = f" on {q.theme}" if q.theme else ""
    if q.peel:
        theme += f" under PEEL question {q.peel}"
    if q.addressee:
        theme += {"force": " for the force", "other": " for other bodies", "both": ""}.get(
            q.addressee, f" for the {q.addressee}"
        )
    statuses = sorted(q.statuses)
    if statuses and q.query == "outstanding":
        label = " or ".join(STATUS_LABEL.get(s, s).lower() for s in statuses)
        return f"{what.capitalize()}{where}{who}{theme}: {label}", f"Nothing{where}{who}{theme} is {label}."
    if q.query == "overdue":
        title = f"Overdue {what}{where}{who}{theme}"
        return title, "Nothing is overdue. 🎉" if not (where or who or theme) else "None of those is overdue."
    if q.query == "due":
        label = q.label or "soon"
        return f"Live {what}{where}{who}{theme} due {label}".replace(
            "due due", "due"
        ), f"Nothing{where}{who} is due {label}."
    return f"Outstanding {what}{where}{who}{theme}", f"Nothing outstanding{where}{who}{theme}."


def find(q: ListQuery, model: ReadModel, today: dt.date) -> list[ItemView]:
    """Every item the list ``q`` describes, sorted (memoised until the items change)."""
    report = model.reports_by_key.get(q.report) if q.report else None
    key = ("list", tuple(sorted({**q.to_data(), "page": 0}.items())), today)

    report_id = report.id if report else None
    statuses = q.statuses
    if q.owner_aad_id and report_id is None:
        # "My items": the asker's own few, found through the indexes and sorted when asked. Kept,
        # every person's list would be patched by every write to anyone's item.
        def mine() -> list[ItemView]:  # looked up only when not memoised since the last change
            pool = _pool(q, model, None) or ()
            return sorted((i for i in pool if matches(i, q, None, today, statuses)), key=sort_key)

        return model.memo(key, mine)
    # Kept current across writes (one item moved in or out), not rebuilt by a scan after each one;
    # the pool is looked up only when the list is first built.
    return model.kept_list(
        key,
        lambda i: matches(i, q, report_id, today, statuses),
        sort_key,
        lambda: _pool(q, model, report_id),
        scope=report_id,
    )


def _pool(q: ListQuery, model: ReadModel, report_id: int | None) -> list[ItemView] | None:
    """Where a list's items can be, when that is fewer than all of them: a report's items, the
    asker's own, or those of the owners, department or theme asked for (found among the few
    distinct names and themes with the very tests :func:`matches` applies, so the pool holds every
    item it would pick). None: all items."""
    if report_id is not None:
        return model.items_of_report(report_id)
    if q.owner_aad_id:  # "my items": linked to the asker, or (not linked) owned under their name
        mine = {i.id: i for i in model.items_linked_to(q.owner_aad_id)}
        if q.mine_name:
            names = (n for n in model.owner_names() if _same(n or None, q.mine_name))
            mine.update((i.id, i) for i in model.items_owned_by(names) if not i.owner_aad_id)
        return list(mine.values())
    if q.owner:
        return model.items_owned_by(n for n in model.owner_names() if _owned_by(n or None, q.owner))
    if q.department:
        return model.items_owned_by(n for n in model.owner_names() if _in_department(n or None, q.department))
    if q.theme:
        return model.items_with_themes(t for t in model.themes() if _has_theme((t,), q.theme))
    return None


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
            title,
            items,
            model.reports,
            today,
            total=total,
            page=page,
            page_size=PAGE_SIZE,
            more=more,
            empty=empty,
        )
        card = with_refresh(card, SurfaceVerb.REFRESH_LIST, q.to_data())  # stays current (issue 15)
        return FrozenCard(card).with_fallback(fallback[:4000]), fallback

    # The same page of the same list is the same card while its items are (cards are never modified
    # after they are built, so sharing one is safe). Items and reports are immutable views, replaced
    # on every change, so the key names them by identity and the kept value holds them (see keep):
    # a write to an item on another page leaves this page's card as it is.
    held = (tuple(items), model.reports)
    key = (
        "page",
        tuple(sorted(q.to_data().items())),
        page,
        today,
        total,
        tuple(map(id, held[0])),
        id(held[1]),
    )
    card, fallback, _ = model.keep(key, lambda: (*build(), held))
    state = StateChange(last_list=ListQuery.from_data(more) if more else None,
                        last_shown=tuple(i.id for i in items), last_query=q.query)  # fmt: skip
    if report:
        state = state.merged(StateChange(last_report=report.key))
    return Outcome(replies=[Reply(fallback, card)], state=state)
