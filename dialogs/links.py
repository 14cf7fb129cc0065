"""Link previews (issue 15): a pasted link to an HMICFRS page the tracker holds, or to one of the
bot's own item links, becomes that item's (or report's) card. Pure.

The bot's own item link is ``{public url}/items/{id}``. Source links are matched without their
scheme, ``www.`` and trailing slash (query parameters in any order), so the forms people paste all
match. A page several items of one report cite is that report's page.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from dialogs.cards import report_name
from dialogs.language import Resolver
from dialogs.lists import run_list
from dialogs.queries import ListQuery
from dialogs.surfaces import SurfaceVerb, card_attachment, refreshed, result_attachment, with_refresh
from storage.readmodel import ReadModel

HMICFRS_DOMAINS = ("www.justiceinspectorates.gov.uk", "justiceinspectorates.gov.uk")
_ITEM_PATH = re.compile(r"^/items/(\d{1,9})/?$")


def link_key(url: str) -> str | None:
    """A link as compared: host without ``www.``, path without a trailing slash; None if not http(s)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().removeprefix("www.")
    query = "&".join(sorted(q for q in parts.query.split("&") if q))
    return f"{host}{parts.path.rstrip('/')}" + (f"?{query}" if query else "")


def item_link(base_url: str, item_id: int) -> str:
    """The bot's own link to an item."""
    return f"{base_url.rstrip('/')}/items/{item_id}"


def _targets(model: ReadModel) -> dict[str, tuple[str, int]]:
    """link key -> ("item" | "report", id), built once per read-model generation."""

    def build() -> dict[str, tuple[str, int]]:
        out: dict[str, tuple[str, int]] = {}
        for r in model.reports.values():
            if r.url and (key := link_key(r.url)):
                out.setdefault(key, ("report", r.id))
        shared: dict[str, set[int]] = {}
        for i in model.items.values():
            for url in (i.source_url, i.register_url):
                if url and (key := link_key(url)) and key not in out:
                    shared.setdefault(key, set()).add(i.id)
        for key, ids in shared.items():
            if len(ids) == 1:
                out[key] = ("item", next(iter(ids)))
            else:  # a page several items cite is their report's page: the report's card
                reports = {model.items[i].report_id for i in ids}
                out[key] = ("report", reports.pop()) if len(reports) == 1 else ("item", min(ids))
        return out

    return model.memo(("link-targets",), build)


def link_answer(url: str, model: ReadModel, resolver: Resolver, today: dt.date, *,
                own_base: str | None = None) -> dict[str, Any] | None:  # fmt: skip
    """The card attachment for a pasted ``url``, or None when it is not a link the tracker knows."""
    key = link_key(url)
    if key is None:
        return None
    own = link_key(own_base) if own_base else None
    host = own.split("/")[0] if own else None
    if host and key.startswith(host + "/") and (m := _ITEM_PATH.match(key[len(host) :])):
        item = model.items.get(int(m.group(1)))
        if item is not None:
            return result_attachment(item, model.reports.get(item.report_id), today)
    kind, ident = _targets(model).get(key, ("", 0))
    if kind == "item" and (item := model.items.get(ident)) is not None:
        return result_attachment(item, model.reports.get(item.report_id), today)
    if kind == "report" and (report := model.reports.get(ident)) is not None:
        q = ListQuery(query="outstanding", report=report.key)
        out = run_list(q, model, today)
        card = out.replies[0].card if out.replies else None
        if card is None:
            return None
        payload = with_refresh(refreshed(card), SurfaceVerb.REFRESH_LIST, q.to_data())
        return card_attachment(payload, report_name(report), report.title[:120])
    return None


def link_domains(urls: Iterable[str | None], own_base: str | None = None) -> list[str]:
    """The host names for the manifest's link handler: HMICFRS, the hosts of the links the tracker
    holds, and the bot's own; de-duplicated, in that order."""
    hosts: list[str] = list(HMICFRS_DOMAINS)
    for url in (*urls, own_base):
        if not url:
            continue
        try:
            host = (urlsplit(url).hostname or "").lower()
        except ValueError:
            continue
        if host and host not in hosts:
            hosts.append(host)
    return hosts
