"""The resolver on its own: words, acronyms, typos, live index updates, numbers, confidence, scale.

Most tests use the in-memory corpus (``tests.kit.corpus``); the scale test builds a 100,000-item
synthetic tracker and counts the work narrowing does (timing belongs in bench/, not here).
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from typing import Any, cast

import pytest

from dialogs.language.index import Index
from dialogs.language.rank import POSTING_CAP, Resolver, Scored, pick
from dialogs.language.text import acronyms_in, contract, normalise, stem, tokens, words_of
from storage.readmodel import ReadModel
from storage.store import Store
from storage.views import ItemView, ReportView, Snapshot
from tests.kit import corpus
from tests.kit.corpus import BETRAYAL, CP, DISP, EFFECT, PEEL, PPDA, VAWG, VET


@pytest.fixture
def model() -> ReadModel:
    return corpus.read_model()


@pytest.fixture
def resolver(model: ReadModel) -> Resolver:
    return Resolver(Index(model))


def key_of(ref: Any) -> tuple[str, str, str] | None:
    """(report key, kind, number) of a Reference's chosen item."""
    if ref.item is None:
        return None
    return (ref.report.key, ref.item.kind, ref.item.number)


def reports_of(ref: Any) -> set[str]:
    return {c.report.key for c in ref.candidates if c.report}


# ---- words --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Anti-Social  Behaviour", "antisocial behaviour"),
        ("anti social behaviour", "antisocial behaviour"),
        ("Multi-agency safeguarding hub", "multiagency safeguarding hub"),
        ("the force\u2019s \u201cCCU\u201d \u2013 Caf\u00e9", 'the force\'s "ccu" cafe'),
    ],
)
def test_normalise_folds_case_quotes_dashes_accents_and_prefixes(text: str, expected: str) -> None:
    assert normalise(text) == expected


def test_stemming_is_small_and_symmetric() -> None:
    assert [stem(w) for w in ("units", "agencies", "searching", "status", "process", "bus")] == [
        "unit", "agency", "search", "status", "process", "bus",
    ]  # fmt: skip
    assert words_of("Stop & Search") == ["stop", "and", "search"]


def test_an_expansion_and_its_acronym_are_one_word() -> None:
    assert "bwv" in tokens("records and reviews body-worn video footage")
    assert "ccu" in tokens("counter-corruption units (CCUs)")
    assert acronyms_in("Police effectiveness, efficiency and legitimacy") == ["peel"]
    assert contract(["the", "stop", "search", "one"]) == ["the", "s&s", "one"]
    assert contract(["police", "perpetrated", "domestic", "abuse"]) == ["ppda"]  # longest first


# ---- acronyms -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "report"),
    [
        ("VAWG", VAWG),
        ("violence against women and girls interim", VAWG),
        ("the S&S spotlight", DISP),
        ("PPDA", PPDA),  # police perpetrated domestic abuse: not the betrayal spotlight
        ("APSP", BETRAYAL),
        ("abuse of position for a sexual purpose", BETRAYAL),
        ("online CSE", "cse-online-2015"),
        ("CP 2014", CP),
        ("crime data integrity", "cdi-2018-wmp"),
        ("JTAI", "jtai-walsall-2022"),
    ],
)
def test_acronyms_and_their_expansions_name_the_same_report(
    resolver: Resolver, text: str, report: str
) -> None:
    res = resolver.reports(text)
    assert res.chosen is not None and res.chosen.report is not None, res
    assert res.chosen.report.key == report


def test_an_acronym_finds_the_items_that_spell_it_out(resolver: Resolver) -> None:
    spelt = resolver.refer("the body worn video one")
    short = resolver.refer("the BWV one")
    assert key_of(spelt) == key_of(short) == (PEEL, "afi", "2")
    ccus = resolver.refer("the CCUs one")  # plural acronym, and items saying "counter-corruption units"
    assert ccus.needs_clarification and reports_of(ccus) == {VET, BETRAYAL}


def test_da_is_ambiguous_between_two_domestic_abuse_reports(resolver: Resolver) -> None:
    res = resolver.reports("DA")
    assert res.chosen is None and {s.report.key for s in res.candidates if s.report} == {
        "da-pandemic-2021", PPDA,
    }  # fmt: skip


# ---- typos --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("vettting", "vetting"), ("misogny", "misogyny"), ("disproportionailty", "disproportionality"),
     ("whistleblowng", "whistleblowing"), ("cannabiss", "cannabis"), ("dashcma", "dashcam"),
     ("reccomendations on stalkng", "stalking")],
)  # fmt: skip
def test_typos_are_corrected_against_our_own_vocabulary(resolver: Resolver, typed: str, meant: str) -> None:
    assert resolver.index.query_tokens(typed) == resolver.index.query_tokens(meant) != []


def test_known_short_and_unknown_words_are_left_alone(resolver: Resolver) -> None:
    assert resolver.index.correct("vetting") == "vetting"
    assert resolver.index.correct("vetng") == "vetng"  # two slips in a short word is a different word
    assert resolver.index.correct("helicopter") == "helicopter"
    assert resolver.index.correct("rec") == "rec"


def test_a_typo_in_a_report_name_still_names_it(resolver: Resolver) -> None:
    res = resolver.reports("the misogny one")
    assert res.chosen is not None and res.chosen.report.key == VET


# ---- the index follows the read model ---------------------------------------------------------


def test_an_alias_added_at_run_time_is_found(model: ReadModel, resolver: Resolver) -> None:
    assert resolver.reports("the JAC paper").chosen is None
    vet = model.reports_by_key[VET]
    updated = tuple(dataclasses.replace(r, aliases=(*r.aliases, "JAC paper")) if r.id == vet.id else r
                    for r in model.reports.values())  # fmt: skip
    model._install(Snapshot(seq=2, reports=updated, items=(), full=False))  # what refresh() does
    res = resolver.reports("what's outstanding from the JAC paper")
    assert res.chosen is not None and res.chosen.report.key == VET
    assert key_of(resolver.refer("the dashcam one")) == ("roads-policing-not-optional", "recommendation", "4")


def test_a_new_item_is_indexed_as_it_arrives(model: ReadModel, resolver: Resolver) -> None:
    assert resolver.refer("the drone one").not_found
    template = next(iter(model.items.values()))
    new = dataclasses.replace(template, id=max(model.items) + 1, number="44",
                              text="Chief constables should make sure that drone footage is retained.")  # fmt: skip
    model.apply(new)
    assert resolver.refer("the drone one").item == new
    assert resolver.index.items_by_number("44") == [new]


def test_an_edited_item_is_found_by_its_new_words_only(model: ReadModel, resolver: Resolver) -> None:
    old = next(i for i in model.items.values() if "dashcam" in i.text)
    model.apply(
        dataclasses.replace(old, version=old.version + 1, text="Forces should process helmet camera footage.")
    )
    assert resolver.refer("the dashcam one").item is None
    assert resolver.refer("the helmet camera one").item.id == old.id


def test_a_new_owner_is_known_as_a_person(model: ReadModel, resolver: Resolver) -> None:
    assert not resolver.index.person("Raj Patel")
    item = model.items[1]
    model.apply(dataclasses.replace(item, version=item.version + 1, owner_name="DCI Raj Patel (CCU)"))
    assert resolver.index.person("Raj Patel") and resolver.index.person("DCI Patel")
    assert not resolver.index.person("DCI")  # a rank alone is nobody


def test_themes_are_matched_to_how_items_record_them(resolver: Resolver) -> None:
    assert resolver.index.theme("Stop & Search") == "stop and search"
    assert resolver.index.theme("counter corruption") == "counter-corruption"
    assert resolver.index.theme("the weather") is None


# ---- numbers ------------------------------------------------------------------------------------


def test_a_number_within_a_report_and_across_reports(resolver: Resolver) -> None:
    disp = resolver.report_by_key(DISP)
    assert len(resolver.index.items_by_number("4")) >= 10
    assert [i.report_id for i in resolver.index.items_by_number("4", report_id=disp.id)] == [disp.id]
    across = resolver.refer("", number="4")
    assert across.needs_clarification and across.item is None and len(reports_of(across)) >= 5
    assert key_of(resolver.refer("of the disproportionality report", number="4")) == (
        DISP,
        "recommendation",
        "4",
    )
    assert key_of(resolver.refer("", number="4", context_report_id=disp.id)) == (DISP, "recommendation", "4")


def test_a_number_the_named_report_lacks_is_not_found_there(resolver: Resolver) -> None:
    ref = resolver.refer("vetting", number="4")  # VAWG, DISP... have a 4; vetting does not
    assert ref.not_found and ref.item is None and ref.report.key == VET


def test_the_kind_tells_numbers_apart(resolver: Resolver) -> None:
    assert key_of(resolver.refer("", number="2", kind="afi")) == (PEEL, "afi", "2")
    assert resolver.refer("", number="2", kind="cause_of_concern").not_found


def test_a_bare_number_within_one_report_means_its_recommendation() -> None:
    report = ReportView(1, "peel-x", "PEEL X", "peel", None, None, ())
    base = corpus.item_views()[0]
    rec = dataclasses.replace(
        base, id=1, report_id=1, kind="recommendation", number="1", text="Recruit more detectives."
    )
    afi = dataclasses.replace(base, id=2, report_id=1, kind="afi", number="1", text="Improve call handling.")
    resolver = Resolver(Index(corpus.read_model(Snapshot(seq=1, reports=(report,), items=(rec, afi)))))
    assert resolver.refer("", number="1").item == rec
    assert resolver.refer("", number="1", kind="afi").item == afi


def test_words_choose_among_items_with_the_same_number(resolver: Resolver) -> None:
    assert key_of(resolver.refer("about perpetrators managed through multi-agency arrangements", number="5")) == (
        VAWG, "recommendation", "5",
    )  # fmt: skip


# ---- words: not found, nearest, confidence -----------------------------------------------------


def test_not_found_offers_the_nearest_items(resolver: Resolver) -> None:
    ref = resolver.refer("the body armour one", strict=True)
    assert ref.not_found and ref.item is None
    assert (PEEL, "afi", "2") in {
        (c.report.key, c.item.kind, c.item.number) for c in ref.candidates if c.item
    }
    nothing = resolver.refer("the helicopter one")
    assert nothing.not_found and nothing.candidates == ()


def test_writes_need_a_clearer_winner_than_reads(resolver: Resolver) -> None:
    """One unfamiliar word lowers confidence: enough to show, not enough to change anything."""
    read = resolver.refer("the cannabis one we discussed")
    write = resolver.refer("the cannabis one we discussed", strict=True)
    assert key_of(read) == (DISP, "recommendation", "7")
    assert write.item is None and write.not_found
    assert key_of(resolver.refer("the cannabis one", strict=True)) == (DISP, "recommendation", "7")


def test_words_that_look_like_a_report_name_but_describe_items(resolver: Resolver) -> None:
    assert resolver.reports("the organised crime one").chosen.report.key == "cdi-2018-wmp"  # by name alone...
    ref = resolver.refer("the organised crime one")  # ...but only peel-effectiveness items say it
    assert ref.needs_clarification and reports_of(ref) == {EFFECT}


def test_a_report_named_by_its_alias_narrows_the_search(resolver: Resolver) -> None:
    assert reports_of(resolver.refer("the CCU one")) == {VET, BETRAYAL}
    assert reports_of(resolver.refer("the CCU one from vetting")) == {VET}
    only = resolver.refer("the vetting one")
    assert only.report_only and only.report.key == VET and only.item is None


def test_context_settles_only_what_the_words_leave_open(resolver: Resolver) -> None:
    cse = resolver.report_by_key("cse-online-2015")
    assert resolver.refer("the strategic assessment one").needs_clarification  # vetting, betrayal, CSE
    in_context = resolver.refer("the strategic assessment one", context_report_id=cse.id)
    assert key_of(in_context) == ("cse-online-2015", "recommendation", "7.1")
    elsewhere = resolver.refer("the cannabis one", context_report_id=cse.id)
    assert key_of(elsewhere) == (DISP, "recommendation", "7")


@pytest.mark.parametrize(
    ("scores", "floor", "margin", "chosen"),
    [
        ([80, 75], 60, 10, None),  # too close to call
        ([80, 69], 60, 10, 80),  # clear by more than the margin
        ([80, 70], 60, 10, 80),  # exactly the margin is enough
        ([55], 60, 10, None),  # alone but below the floor
        ([60], 60, 10, 60),
        ([], 60, 10, None),
    ],
)
def test_pick_needs_the_floor_and_the_margin(
    scores: list[float], floor: float, margin: float, chosen: float | None
) -> None:
    res = pick([Scored(s) for s in scores], floor=floor, margin=margin)
    assert (res.chosen.score if res.chosen else None) == chosen
    if chosen is None and len(scores) > 1:
        assert res.needs_clarification


# ---- scale --------------------------------------------------------------------------------------

N_REPORTS, PER_REPORT = 1000, 100  # 100,000 items


class CountingItems(dict[int, ItemView]):
    """The read model's item map, counting every look-up: a full scan would show up in the count."""

    touched = 0

    def __getitem__(self, key: int) -> ItemView:
        CountingItems.touched += 1
        return super().__getitem__(key)

    def get(self, key: int, default: Any = None) -> Any:
        CountingItems.touched += 1
        return super().get(key, default)

    def __iter__(self) -> Iterator[int]:
        CountingItems.touched += len(self)
        return super().__iter__()

    def values(self) -> Any:
        CountingItems.touched += len(self)
        return super().values()


@pytest.fixture(scope="module")
def national() -> tuple[ReadModel, Resolver]:
    """100,000 items in 1,000 reports, words drawn Zipf-like from a 5,000-word vocabulary."""
    rng = random.Random(20221215)
    vocab = [f"term{i:04d}" for i in range(5000)]
    cum, total = [], 0.0
    for i in range(len(vocab)):
        total += 1 / (i + 1)
        cum.append(total)
    drawn = iter(rng.choices(vocab, cum_weights=cum, k=6 * N_REPORTS * PER_REPORT))
    reports = tuple(ReportView(r + 1, f"report-{r:04d}", f"Inspection {r:04d} of {vocab[4000 + r]}", "thematic",
                               None, None, ()) for r in range(N_REPORTS))  # fmt: skip
    template = corpus.item_views()[0]
    items = []
    for n in range(N_REPORTS * PER_REPORT):
        text = " ".join(next(drawn) for _ in range(6))
        if n == 77_777:
            text += " quokka"  # one planted word that no other item has
        items.append(dataclasses.replace(template, id=n + 1, report_id=n // PER_REPORT + 1,
                                         number=str(n % PER_REPORT + 1), text=text))  # fmt: skip
    model = ReadModel(cast(Store, None))
    model._install(Snapshot(seq=1, reports=reports, items=tuple(items)))
    resolver = Resolver(Index(model))
    resolver.index.knows("warm")  # build the indexes now, outside the counted part
    model.items = CountingItems(model.items)
    return model, resolver


@pytest.mark.parametrize(
    "text",
    [
        "the quokka one",  # one rare word
        "the term0001 term0002 one",  # the two commonest words: narrowing must not fall back to a scan
        "term0005 term0500 term1500 term3000",
        "the term0007 one from the term4321 inspection",  # a report's name and a common word
        "something nobody ever wrote",
    ],
)
def test_narrowing_touches_a_bounded_number_of_items(national: tuple[ReadModel, Resolver], text: str) -> None:
    model, resolver = national
    CountingItems.touched = 0
    ref = resolver.refer(text)
    bound = 4 * POSTING_CAP  # three postings and one report's items, each capped
    assert ref.examined <= bound
    assert CountingItems.touched <= 3 * bound, "resolution looked at (nearly) every item"
    assert len(model.items) == N_REPORTS * PER_REPORT
    if "quokka" in text:
        assert ref.item is not None


def test_a_rare_word_is_found_among_100000_items(national: tuple[ReadModel, Resolver]) -> None:
    _, resolver = national
    ref = resolver.refer("the quokka one", strict=True)
    assert ref.item is not None and ref.item.id == 77_778


def test_a_number_across_1000_reports_asks_and_a_named_report_answers(
    national: tuple[ReadModel, Resolver],
) -> None:
    _, resolver = national
    CountingItems.touched = 0
    assert resolver.refer("", number="42").needs_clarification
    ref = resolver.refer("from the term4321 inspection", number="42")
    assert ref.item is not None and (ref.report.key, ref.item.number) == ("report-0321", "42")
    assert CountingItems.touched <= 3 * N_REPORTS  # the number index, not the items


def test_fingerprints_hold_dense_ids_in_an_array_and_far_ids_aside() -> None:
    from dialogs.language.index import Fingerprints

    prints = Fingerprints()
    assert prints.get(1) is None
    for item_id in range(1, 5000):
        prints[item_id] = item_id * 7919 - 2**40  # negative and large fingerprints alike
    prints[3] = 0  # a fingerprint of 0 is still "something indexed"
    far = 2**40  # an id far beyond the rest does not grow the array to match
    prints[far] = 5
    assert prints.get(4999) == 4999 * 7919 - 2**40 and prints.get(3) is not None
    assert prints.get(far) == 5 and prints.get(far - 1) is None and prints.get(-1) is None
    assert prints.get(5000) is None and len(prints._dense) < 20_000
