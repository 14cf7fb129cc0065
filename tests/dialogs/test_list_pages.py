"""A list page's card is kept across writes while its own items stand, and rebuilt when one changes."""

from __future__ import annotations

import dataclasses
import datetime as dt

from dialogs.lists import PAGE_SIZE, find, run_list
from dialogs.queries import ListQuery
from tests.kit.corpus import read_model

TODAY = dt.date(2026, 12, 2)


def _card(model, q: ListQuery) -> dict:  # type: ignore[no-untyped-def]
    (reply,) = run_list(q, model, TODAY).replies
    assert reply.card is not None
    return reply.card


def test_a_write_elsewhere_keeps_the_page_and_a_write_on_it_rebuilds_it() -> None:
    model = read_model()
    q = ListQuery(query="outstanding")
    found = list(find(q, model, TODAY))  # a copy: the kept list itself is patched in place
    assert len(found) > 2 * PAGE_SIZE  # the second page exists
    first, second = _card(model, q), _card(model, ListQuery(query="outstanding", page=1))
    assert _card(model, q) is first  # asked again: the same card

    # A change to an item on page 2 that keeps its place: page 1 is the same card, page 2 is new.
    elsewhere = found[PAGE_SIZE]
    model.apply(dataclasses.replace(elsewhere, text="a new wording", version=elsewhere.version + 1))
    assert _card(model, q) is first
    again = _card(model, ListQuery(query="outstanding", page=1))
    assert again is not second and "a new wording" in str(again) and "a new wording" not in str(second)

    # A change to an item on page 1 shows at once.
    here = found[0]
    model.apply(dataclasses.replace(here, owner_name="Supt Z Example", version=here.version + 1))
    changed = _card(model, q)
    assert changed is not first and "Supt Z Example" in str(changed) and "Supt Z Example" not in str(first)


def test_an_item_leaving_the_list_moves_the_pages_after_it() -> None:
    model = read_model()
    q = ListQuery(query="outstanding")
    found = list(find(q, model, TODAY))  # a copy: the kept list itself is patched in place
    first = _card(model, q)
    gone = found[1]
    model.apply(dataclasses.replace(gone, status="signed_off", version=gone.version + 1))
    after = _card(model, q)
    assert after is not first
    moved_up = found[PAGE_SIZE]  # first of page 2 before, last of page 1 now
    assert [i.id for i in find(q, model, TODAY)[:PAGE_SIZE]] == [
        i.id for i in found[: PAGE_SIZE + 1] if i.id != gone.id
    ]
    assert moved_up.text[:40] in str(after) and moved_up.text[:40] not in str(first)


def test_my_items_are_found_among_the_askers_own_and_stay_exact_as_owners_change() -> None:
    import random

    from dialogs.lists import matches

    model = read_model()
    rng = random.Random(4)
    ids = sorted(model.items)
    me = "AAD-0001-ME"  # upper case here, lower case on some items: the same person
    names = ("DCI Sarah Khan", "Sarah Khan (PSD)", "S. Khan", "DI Naomi Clarke", None)
    q = ListQuery(query="outstanding", owner_aad_id=me, mine_name="Sarah Khan")
    for step in range(120):  # bounded: 120 owner changes, the list checked after each
        item = model.items[rng.choice(ids)]
        aad = rng.choice((me, me.lower(), "aad-someone-else", None))
        model.apply(dataclasses.replace(item, owner_name=rng.choice(names), owner_aad_id=aad,
                                        status=rng.choice(("open", "in_progress", "signed_off")),
                                        version=item.version + 1))  # fmt: skip
        want = sorted((i for i in model.items.values() if matches(i, q, None, TODAY)), key=lambda i: i.id)
        got = sorted(find(q, model, TODAY), key=lambda i: i.id)
        assert [i.id for i in got] == [i.id for i in want], step
        if step == 60:  # a list built afresh from the indexes (not patched) agrees too
            model._kept.clear()
            model._kept_scopes.clear()
    assert want  # the changes gave the asker items to find
    assert not any("owner_aad_id" in str(key) for key in model._kept)  # not patched by everyone's writes
