"""A deterministic synthetic tracker of any size, for benchmarks only (never shown as HMICFRS text).

Reports and items look like the real thing (numbering, kinds, deadlines, owners, statuses,
HMICFRS-style wording built from a phrase bank) so that resolution and list queries do realistic
work. Generated with a seeded RNG: the same size always gives the same data.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

TOPICS = (
    ("vetting", "An inspection of vetting, misconduct and misogyny", ("vetting", "the misogyny one")),
    ("roads", "Roads policing: not optional", ("roads policing",)),
    ("da-pandemic", "Review of policing domestic abuse during the pandemic", ("DA pandemic",)),
    (
        "ppda",
        "Shining a light on betrayal: abuse of position for a sexual purpose",
        ("PPDA", "abuse of position"),
    ),
    ("peel", "PEEL police effectiveness, efficiency and legitimacy", ("our PEEL",)),
    ("jtai", "Joint targeted area inspection of the multi-agency response", ("JTAI",)),
    ("child-protection", "National child protection inspection", ("child protection",)),
    ("vawg", "Inspection into how effectively the police engage with women and girls", ("VAWG",)),
    (
        "disproportionality",
        "Disproportionate use of police powers: stop and search and use of force",
        ("disproportionality", "S&S"),
    ),
    ("fraud", "Fraud: time to choose, a revisit", ("fraud",)),
    ("cdi", "Crime data integrity inspection", ("CDI",)),
    ("bwv", "Body-worn video in policing", ("BWV",)),
    ("cse", "Child sexual exploitation: the police response", ("CSE",)),
    ("asb", "Antisocial behaviour: the victim's voice", ("ASB",)),
    ("counter-corruption", "Counter-corruption capability in police forces", ("CCU", "counter corruption")),
    ("custody", "Police custody: a national thematic", ("custody",)),
    ("digital", "Digital forensics and digital evidence", ("digital forensics",)),
    ("soc", "Serious and organised crime: regional response", ("SOC", "organised crime")),
    ("mental-health", "Policing and mental health: picking up the pieces", ("mental health",)),
    ("workforce", "Workforce wellbeing and professional standards", ("wellbeing",)),
)
OPENERS = ("By {date}, chief constables should", "Within six months, forces should", "Immediately, the force should",
           "Chief constables should", "The force should", "By {date}, all forces should")  # fmt: skip
ACTIONS = (
    "make sure that",
    "review how",
    "introduce arrangements so that",
    "improve how",
    "establish a process by which",
)
SUBJECTS = ("counter-corruption units", "vetting decisions", "supervisors", "call handlers", "investigators",
            "custody staff", "neighbourhood teams", "digital forensic units", "professional standards departments",
            "safeguarding hubs", "crime recorders", "body-worn video users", "intelligence units", "victim care teams")  # fmt: skip
OBJECTS = ("record the rationale for their decisions", "seek corruption-related intelligence as a matter of routine",
           "monitor all use of IT systems", "update victims within agreed timescales",
           "categorise intelligence in line with national categories", "review footage of stop and search encounters",
           "assess risk consistently at the first point of contact", "manage registered sex offenders",
           "identify repeat victims of antisocial behaviour", "record crimes at the point of report",
           "share information with partner agencies", "train staff in trauma-informed practice")  # fmt: skip
OWNERS = ("DCI Sarah Khan (PSD)", "Supt Mark Owen (ICT)", "DI Priya Shah (Economic Crime)", "Insp Jo Bell (BWV)",
          "Supt Ann Cole (Legitimacy)", "DCI Tom Reid (Offender Management)", "Ch Insp Lee Wong (Contact)", None)  # fmt: skip
STATUSES = ("open",) * 4 + ("in_progress",) * 4 + ("evidenced",) * 2 + ("signed_off",) * 3 + ("not_for_us",)
# Cross-cutting themes the SD&A team tags items with (none is also a report alias, so "on X" means
# the theme). Drawn with their own RNG so adding them left every other field of the corpus as it was.
THEMES = ("misogyny", "stop and search", "victim care", "safeguarding", "digital evidence", "crime recording",
          "supervision", "information sharing")  # fmt: skip


@dataclass(frozen=True)
class SynthItem:
    report_key: str
    kind: str
    number: str
    text: str
    deadline: str | None
    due: dt.date | None
    owner: str | None
    status: str
    themes: tuple[str, ...] = ()


def reports(n_items: int) -> list[tuple[str, str, tuple[str, ...]]]:
    """~20 reports for small trackers; more (numbered editions) for national-scale ones."""
    editions = max(1, n_items // 2000)
    out: list[tuple[str, str, tuple[str, ...]]] = []
    for e in range(editions):
        for key, title, aliases in TOPICS:
            suffix = "" if e == 0 else f"-{2010 + e}"
            out.append((key + suffix, title + (f" ({2010 + e})" if e else ""), aliases if e == 0 else ()))
    return out


def items(n_items: int, today: dt.date, seed: int = 7) -> list[SynthItem]:
    rng = random.Random(seed)
    theme_rng = random.Random(seed * 7919)
    reps = reports(n_items)
    out: list[SynthItem] = []
    counters: dict[tuple[str, str], int] = {}
    for i in range(n_items):
        key = reps[i % len(reps)][0]
        kind = rng.choices(("recommendation", "afi", "cause_of_concern"), (8, 3, 1))[0]
        counters[(key, kind)] = counters.get((key, kind), 0) + 1
        number = str(counters[(key, kind)]) if rng.random() > 0.05 else ""
        due = today + dt.timedelta(days=rng.randint(-400, 300)) if rng.random() > 0.2 else None
        opener = rng.choice(OPENERS).format(date=due.strftime("%-d %B %Y") if due else "31 March 2027")
        text = f"{opener} {rng.choice(ACTIONS)} {rng.choice(SUBJECTS)} {rng.choice(OBJECTS)}, and that {rng.choice(SUBJECTS)} {rng.choice(OBJECTS)}."
        deadline = opener.split(",")[0] if opener.startswith(("By", "Within", "Immediately")) else None
        owner, status = rng.choice(OWNERS), rng.choice(STATUSES)
        themes = tuple(sorted(set(theme_rng.sample(THEMES, theme_rng.choice((0, 1, 1, 2))))))
        out.append(SynthItem(key, kind, number, text, deadline, due, owner, status, themes))
    return out


def messages(n_items: int, seed: int = 11, count: int = 500) -> list[str]:
    """Realistic questions for the load generator, about reports and items that exist."""
    rng = random.Random(seed)
    reps = reports(n_items)
    out = []
    for _ in range(count):
        key, _title, aliases = rng.choice(reps[: len(TOPICS)])
        name = aliases[0] if aliases else key
        n = rng.randint(1, max(1, n_items // (len(reps) * 2)))
        out.append(rng.choice((
            f"what's outstanding from the {name} report",
            f"show rec {n} from {name}",
            "what's overdue?",
            f"show rec {n} of the {name} inspection",
            "how many are still open?",
            f"anything due before christmas from {name}",
        )))  # fmt: skip
    return out
