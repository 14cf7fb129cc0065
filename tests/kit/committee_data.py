"""A tracker built from the domain paper's own figures (JAC, 15 December 2022; see tests/fixtures).

"Since the last JAC, the force has had 14 recommendations signed off as complete": Roads Policing 4,
COVID domestic abuse 1, the PPDA spotlight 3, the vetting inspection 6. "A total of 146
recommendations ... 43 recommendations added and five areas of improvement" (the vetting thematic
of 2 November 2022); "26 have been recommended to police forces which leaves 17 ... to either IOPC
or NPCC". The last JAC met on 22 September 2022.

Around those figures sits history the paper must not count: sign-offs before the last JAC (one
exactly on its day), sign-offs and additions after 15 December 2022, a reopening recorded today of
an item signed off in the window, and the 15 December meeting itself (not "before" its own day).
Sign-offs go through :meth:`Store.change_item`, the path Teams uses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from storage.models import Item, Report
from storage.store import ItemChange, Store, bump_seq
from storage.views import Actor, Source

AS_OF = dt.date(2022, 12, 15)
LAST_JAC = dt.date(2022, 9, 22)
EARLIER_JAC = dt.date(2022, 6, 30)
VETTING = "vetting-misconduct-misogyny"
ROADS = "roads-policing-not-optional"
COVID_DA = "domestic-abuse-pandemic-2021"
PPDA = "shining-a-light-on-betrayal"
PEEL = "peel-2021-22-wmp"

# key, title, published, items before the last JAC (all recommendations, for the force)
REPORTS = [
    (ROADS, "Roads Policing – Not optional – An inspection of roads policing in England and Wales", dt.date(2020, 7, 1), 10),
    (COVID_DA, "COVID – Review of policing domestic abuse during the pandemic 2021", dt.date(2021, 6, 1), 3),
    (PPDA, "PEEL Spotlight report 2019 – Shining a light on betrayal – Abuse of position for a sexual purpose",
     dt.date(2019, 9, 27), 5),
    (PEEL, "PEEL 2021/22 Police effectiveness, efficiency and legitimacy – An inspection of West Midlands Police",
     dt.date(2022, 6, 1), 0),
    ("child-protection-2014", "Child Protection report 2014", dt.date(2014, 10, 1), 6),
    ("fraud-review-2021", "A review of 'Fraud: Time to choose'", dt.date(2021, 8, 5), 21),
    ("disproportionality", "Disproportionate use of police powers", dt.date(2021, 2, 26), 24),
    ("custody-2019", "Custody services in England and Wales", dt.date(2019, 5, 1), 25),
    (VETTING, "An inspection of vetting, misconduct, and misogyny in the police service", dt.date(2022, 11, 2), 0),
]  # fmt: skip
VETTING_TEXT = {
    "33": "By 31 March 2023, chief constables should make sure that counter-corruption units (CCUs) have established "
    "relationships with external bodies that support vulnerable people who may be at risk of abuse of position for a "
    "sexual purpose, such as sex-worker support services, drug and alcohol and mental health charities. This is to:\n"
    "- encourage the disclosure by such bodies, to the force's CCU, of corruption-related intelligence relating to the "
    "sexual abuse of vulnerable people by police officers and staff;\n"
    "- help the staff from these bodies to understand the warning signs to look for; and\n"
    "- make sure they are made aware of how such information should be disclosed to the CCU",
    "34": "By 30 April 2023, chief constables should make sure that their counter-corruption units actively seek "
    "corruption-related intelligence as a matter of routine.",
    "35": "By 31 March 2023, to protect the information contained within their systems and help them to identify "
    "potentially corrupt officers and staff, chief constables should make sure that:\n- their force has the ability to "
    "monitor all use of its IT systems; and\n- the force uses this for counter-corruption purposes, to enhance its "
    "investigative and proactive intelligence gathering capabilities",
    "38": "By 30 April 2023, chief constables should make sure that all corruption-related intelligence is categorised "
    "in accordance with the National Police Chiefs' Council counter-corruption categories (and any revised version of "
    "these).",
    "39": "By 30 April 2023, chief constables should make sure they have a current counter-corruption strategic threat "
    "assessment, in accordance with the Counter-Corruption (Intelligence) Authorised Professional Practice.",
}
# In the window (LAST_JAC, AS_OF]: 4 + 1 + 3 + 6 = 14. One on AS_OF itself (inclusive).
SIGNED_IN_WINDOW = {
    ROADS: [dt.date(2022, 10, 3), dt.date(2022, 10, 10), dt.date(2022, 11, 1), dt.date(2022, 11, 30)],
    COVID_DA: [dt.date(2022, 10, 20)],
    PPDA: [dt.date(2022, 9, 23), dt.date(2022, 10, 5), dt.date(2022, 12, 1)],
    VETTING: [dt.date(2022, 11, 20), dt.date(2022, 11, 25), dt.date(2022, 12, 1), dt.date(2022, 12, 2),
              dt.date(2022, 12, 9), AS_OF],
}  # fmt: skip
VETTING_SIGNED = ["33", "34", "35", "38", "39", "40"]
# Not in the window: signed off before it (one exactly on the last JAC's day), or after it.
SIGNED_BEFORE = [(PPDA, LAST_JAC), (PEEL, dt.date(2022, 5, 10))]
SIGNED_AFTER = [(VETTING, dt.date(2023, 1, 20)), (VETTING, dt.date(2023, 1, 27))]
ADDED_AFTER = dt.date(2023, 2, 1)

EXPECTED = {
    "as_of": "2022-12-15",
    "since": "2022-09-22",
    "total": 146,
    # 146 on the tracker, less the 17 for other bodies (not for us), less 16 signed off by then
    # (the 14 in the window and 2 before it).
    "live": 146 - 17 - 16,
    "signed_off_since": 14,
    "added_recommendations": 43,
    "added_afis": 5,
    "added_recommendations_for_force": 26,
    "added_recommendations_other_bodies": 17,
}
EXPECTED_BY_REPORT = {
    VETTING: {"signed_off_since": 6, "added_since": 48, "live": 48 - 17 - 6},
    ROADS: {"signed_off_since": 4, "added_since": 0, "live": 10 - 4},
    PPDA: {"signed_off_since": 3, "added_since": 0, "live": 5 - 3 - 1},
    COVID_DA: {"signed_off_since": 1, "added_since": 0, "live": 3 - 1},
}
SDA = Actor("Insp Rachel Jones-Burns (SD&A)", "aad-rachel")
TEAMS = Source("teams", "a:personal-rachel", None)


@dataclass
class PaperTracker:
    ids: dict[str, list[int]]  # report key -> item ids in creation order
    vetting: dict[str, int]  # vetting recommendation number -> id
    reopened: int  # signed off in the window, reopened today


async def build_paper_tracker(store: Store) -> PaperTracker:
    """The tracker behind the paper, written through the real tables and the real write path."""
    ids: dict[str, list[int]] = {}
    vetting: dict[str, int] = {}
    async with store.sessions() as s, s.begin():
        seq = await bump_seq(s)
        reports = {}
        for key, title, published, _ in REPORTS:
            reports[key] = Report(key=key, title=title, report_type="national_thematic", published=published)
            s.add(reports[key])
        await s.flush()

        def add(
            key: str, kind: str, number: str, text: str, addressee: str, added_on: dt.date, **kw: object
        ) -> Item:
            for_force = addressee in ("Chief constables", "The force")
            item = Item(report_id=reports[key].id, kind=kind, number=number, match_key=f"{kind}:{number}", text=text,
                        addressee=addressee, for_force=for_force, status="open" if for_force else "not_for_us",
                        changed_seq=seq, added_on=added_on, themes=kw.pop("themes", []), **kw)  # fmt: skip
            s.add(item)
            return item

        made: list[tuple[str, str, Item]] = []
        for key, title, published, before in REPORTS:
            kind = "afi" if key == PEEL else "recommendation"
            for n in range(1, (4 if key == PEEL else before) + 1):
                due = dt.date(2022, 3, 31) if key == "custody-2019" and n <= 3 else dt.date(2023, 6, 30)
                made.append((key, str(n), add(key, kind, str(n), f"{title}: {kind} {n} (fixture).", "Chief constables",
                                              published, due_date=due, owner_name=f"Lead {n % 7}")))  # fmt: skip
        # The vetting thematic: 43 recommendations (26 for forces, 10 NPCC, 7 IOPC) and 5 AFIs.
        bodies = ["Chief constables"] * 26 + ["The National Police Chiefs' Council"] * 10 + ["The IOPC"] * 7
        numbers = [*VETTING_SIGNED, *(str(n) for n in range(1, 44) if str(n) not in VETTING_SIGNED)]
        for number, body in zip(numbers[:26], bodies[:26], strict=True):
            text = VETTING_TEXT.get(
                number, f"By 30 April 2023, chief constables should act on vetting point {number}."
            )
            made.append((VETTING, number, add(VETTING, "recommendation", number, text, body, dt.date(2022, 11, 2),
                                              due_date=dt.date(2023, 4, 30), themes=["counter-corruption"] if number in VETTING_TEXT else ["vetting"])))  # fmt: skip
        for number, body in zip(numbers[26:], bodies[26:], strict=True):
            made.append((VETTING, number, add(VETTING, "recommendation", number,
                                              f"By 31 October 2023, {body} should act on vetting point {number}.", body,
                                              dt.date(2022, 11, 2), themes=["misconduct"])))  # fmt: skip
        for n in range(1, 6):
            made.append((VETTING, f"afi-{n}", add(VETTING, "afi", str(n), f"The force should improve vetting practice {n}.",
                                                  "The force", dt.date(2022, 11, 2), themes=["vetting"])))  # fmt: skip
        # Joined after the paper's date: not counted as of 15 December 2022.
        for n in range(50, 55):
            made.append((VETTING, str(n), add(VETTING, "recommendation", str(n), f"Later recommendation {n}.",
                                              "Chief constables", ADDED_AFTER)))  # fmt: skip
        await s.flush()
        for key, number, item in made:
            ids.setdefault(key, []).append(item.id)
            if key == VETTING and not number.startswith("afi"):
                vetting[number] = item.id

    async def sign(item_id: int, on: dt.date) -> None:
        await store.change_item(item_id, None, ItemChange(status="signed_off", signed_off_on=on), SDA, TEAMS)

    for key, days in SIGNED_IN_WINDOW.items():
        pool = [vetting[n] for n in VETTING_SIGNED] if key == VETTING else ids[key]
        for item_id, day in zip(pool, days, strict=False):
            await sign(item_id, day)
    await sign(ids[PPDA][3], SIGNED_BEFORE[0][1])
    await sign(ids[PEEL][0], SIGNED_BEFORE[1][1])
    for (_, day), number in zip(SIGNED_AFTER, ("1", "2"), strict=True):
        await sign(vetting[number], day)
    reopened = ids[ROADS][1]  # signed off on 10 October 2022, reopened today: as of 15 December it counts
    await store.change_item(reopened, None, ItemChange(status="in_progress", note="HMICFRS asked for more evidence"),
                            SDA, TEAMS)  # fmt: skip
    for met in (EARLIER_JAC, LAST_JAC, AS_OF):
        await store.add_meeting(met, SDA, Source("cli"))
    return PaperTracker(ids, vetting, reopened)
