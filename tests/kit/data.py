"""A small, realistic tracker for conversation tests (texts from the JAC paper and sample CSV)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine, session_factory
from storage.models import Item, Report, ReportAlias
from storage.store import Store, bump_seq

VETTING = "vetting-misconduct-misogyny"

REPORTS = [
    (
        VETTING,
        "An inspection of vetting, misconduct, and misogyny in the police service",
        "national_thematic",
        dt.date(2022, 11, 2),
        ["vetting", "the misogyny one", "VMM"],
    ),
    (
        "fraud-review-2021",
        "A review of 'Fraud: Time to choose' – A revisit of the 2018 fraud inspection",
        "national_thematic",
        dt.date(2021, 8, 5),
        ["fraud"],
    ),
    (
        "peel-2021-22-wmp",
        "PEEL 2021/22 Police effectiveness, efficiency and legitimacy – An inspection of West Midlands Police",
        "peel",
        dt.date(2022, 6, 1),
        ["PEEL 2021/22", "our PEEL"],
    ),
    (
        "disproportionality",
        "Disproportionate use of police powers – A spotlight on stop and search and the use of force",
        "spotlight",
        dt.date(2021, 2, 26),
        ["disproportionality", "S&S spotlight"],
    ),
]

# (report key, kind, number, text, deadline text, due, owner, owner aad, status, themes)
ITEMS = [
    (
        VETTING,
        "recommendation",
        "33",
        "By 31 March 2023, chief constables should make sure that counter-corruption units (CCUs) have established relationships with external bodies that support vulnerable people who may be at risk of abuse of position for a sexual purpose, such as sex-worker support services, drug and alcohol and mental health charities.",
        "By 31 March 2023",
        dt.date(2023, 3, 31),
        "DCI Sarah Khan (PSD)",
        "aad-sarah",
        "signed_off",
        ["counter-corruption"],
    ),
    (
        VETTING,
        "recommendation",
        "34",
        "By 30 April 2023, chief constables should make sure that their counter-corruption units actively seek corruption-related intelligence as a matter of routine.",
        "By 30 April 2023",
        dt.date(2023, 4, 30),
        "DCI Sarah Khan (PSD)",
        "aad-sarah",
        "in_progress",
        ["counter-corruption"],
    ),
    (
        VETTING,
        "recommendation",
        "35",
        "By 31 March 2023, to protect the information contained within their systems and help them to identify potentially corrupt officers and staff, chief constables should make sure that their force has the ability to monitor all use of its IT systems; and the force uses this for counter-corruption purposes.",
        "By 31 March 2023",
        dt.date(2023, 3, 31),
        "Supt Mark Owen (ICT)",
        "aad-mark",
        "open",
        ["counter-corruption", "information security"],
    ),
    (
        VETTING,
        "recommendation",
        "38",
        "By 30 April 2023, chief constables should make sure that all corruption-related intelligence is categorised in accordance with the National Police Chiefs' Council counter-corruption categories (and any revised version of these).",
        "By 30 April 2023",
        dt.date(2023, 4, 30),
        None,
        None,
        "evidenced",
        ["counter-corruption"],
    ),
    (
        VETTING,
        "recommendation",
        "39",
        "By 30 April 2023, chief constables should make sure they have a current counter-corruption strategic threat assessment, in accordance with the Counter-Corruption (Intelligence) Authorised Professional Practice.",
        "By 30 April 2023",
        dt.date(2023, 4, 30),
        "DCI Sarah Khan (PSD)",
        "aad-sarah",
        "open",
        ["counter-corruption"],
    ),
    (
        "fraud-review-2021",
        "recommendation",
        "1",
        "By 30 September 2021, Chief Constables should make sure that their forces are following the guidance issued by the National Police Chiefs' Council Coordinator for Economic Crime about fraud-related calls for service.",
        "By 30 September 2021",
        dt.date(2021, 9, 30),
        "DI Priya Shah (Economic Crime)",
        "aad-priya",
        "open",
        ["fraud"],
    ),
    (
        "peel-2021-22-wmp",
        "afi",
        "1",
        "The force should review how it manages sex offenders to make sure it has the capacity and capability to manage the risk they pose.",
        None,
        None,
        "DCI Tom Reid (Offender Management)",
        "aad-tom",
        "signed_off",
        ["offender management"],
    ),
    (
        "peel-2021-22-wmp",
        "afi",
        "2",
        "The force should improve how it records and reviews body-worn video footage of stop and search encounters.",
        "Within six months",
        dt.date(2026, 12, 20),
        "Insp Jo Bell (Body Worn Video)",
        "aad-jo",
        "open",
        ["stop and search"],
    ),
    (
        "disproportionality",
        "recommendation",
        "4",
        "Forces should monitor and analyse the use of stop and search and use of force to understand and explain any disproportionality.",
        "By 31 January 2027",
        dt.date(2027, 1, 31),
        "Supt Ann Cole (Legitimacy)",
        "aad-ann",
        "open",
        ["disproportionality"],
    ),
    (
        "disproportionality",
        "recommendation",
        "5",
        "The IOPC should publish its guidance on stop and search complaints.",
        None,
        None,
        None,
        None,
        "not_for_us",
        [],
    ),
]


async def seed_small(target: Store | AsyncEngine | str) -> dict[str, int]:
    """Insert the reports and items above (into a Store's database, an engine's, or a URL's);
    returns {"vetting 34": item id, ...}. Rows go in directly, as a fixture, not through the bot."""
    if isinstance(target, str):
        engine = create_engine(target)
        try:
            return await seed_small(engine)
        finally:
            await engine.dispose()
    sessions = target.sessions if isinstance(target, Store) else session_factory(target)
    ids: dict[str, int] = {}
    async with sessions() as s, s.begin():
        seq = await bump_seq(s)
        by_key: dict[str, Report] = {}
        for key, title, rtype, published, aliases in REPORTS:
            r = Report(key=key, title=title, report_type=rtype, published=published)
            r.aliases = [ReportAlias(alias=a) for a in aliases]
            s.add(r)
            by_key[key] = r
        await s.flush()
        rows = []
        for key, kind, number, text, deadline, due, owner, aad, status, themes in ITEMS:
            item = Item(
                report_id=by_key[key].id,
                kind=kind,
                number=number,
                match_key=number,
                text=text,
                deadline_text=deadline,
                due_date=due,
                owner_name=owner,
                owner_aad_id=aad,
                status=status,
                themes=themes,
                for_force=status != "not_for_us",
                changed_seq=seq,
                addressee="Chief constables" if status != "not_for_us" else "IOPC",
            )
            s.add(item)
            rows.append((key, kind, number, item))
        await s.flush()
        for key, kind, number, item in rows:
            ids[f"{key.split('-')[0]} {kind} {number}"] = item.id
    return ids
