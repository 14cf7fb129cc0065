"""In-process figures: understanding and message-extension search at 100,000 items, the committee
paper and the digest at 10,000, and the peak RSS of ``tracker serve`` at 100,000.

``python -m bench.micro [NAME ...]`` prints them; ``bench.run`` adds them to its JSON (``micro``).
Timings are per call, over many calls, as percentiles in milliseconds.

Entry points that other work this round builds are looked up by name when measured, and a figure
whose entry point is not there yet is reported as "not available yet" instead of failing:

* message-extension search: ``dialogs.search:search_items`` (:data:`SEARCH_ENTRY`);
* the committee paper: ``dialogs.committee.pack:build_pack`` (:data:`PAPER_ENTRY`).

Their parameters are supplied *by name* from a pool (:func:`call_by_name`): ``model`` /
``read_model`` (a :class:`~storage.readmodel.ReadModel`), ``resolver``, ``query`` / ``text``,
``skip``, ``count``, ``today``, ``now``, ``user`` / ``actor`` (an :class:`~storage.views.Actor`),
``tz``; for the paper also ``store``, ``as_of``, ``since``, ``out`` / ``path`` / ``output`` (a
.docx path to write). A required parameter outside the pool is reported by name, so the lead sees
what to add. Either may be a coroutine function. If the names differ when the features land,
change the two constants (or the pools) here.

The language entry points (``understand``, ``Context``, ``Resolver``) come through one function,
:func:`language`: when issue 11 moves them to ``dialogs.language``, change its import there.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import importlib
import inspect
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench import corpus
from bench.traffic import SEARCH_TERMS, Kind, TrackerMix
from dialogs.digest import build_digest
from storage.readmodel import ReadModel
from storage.views import Actor, EventView, ItemView, ReportView, Snapshot

REPO = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 11, 25)
NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
TZ = ZoneInfo("Europe/London")
SEARCH_ENTRY = "dialogs.search:search_items"
PAPER_ENTRY = "dialogs.committee.pack:build_pack"
MB = 1_000_000

FIGURES: dict[str, str] = {
    "micro-understanding": "understanding a message (routing + resolution) at 100,000 items",
    "micro-search": f"message-extension query at 100,000 items ({SEARCH_ENTRY})",
    "micro-paper": f"the committee paper for 10,000 items, chart included ({PAPER_ENTRY})",
    "micro-digest": "the weekly digest card for 10,000 items and 3,000 events",
    "micro-rss": "peak RSS of tracker serve holding 100,000 items",
}


def language() -> tuple[Callable[..., Any], type, Callable[[ReadModel], Any]]:
    """(understand, Context, a resolver over a read model): the one place that names the language package."""
    from dialogs.language import Context, Index, Resolver, understand

    def resolver(model: ReadModel) -> Resolver:
        index = Index(model)
        index.warm()
        return Resolver(index)

    return understand, Context, resolver


class NotAvailable(Exception):
    """An entry point this figure needs is not there (yet), or cannot be called with what we have."""


def entry_point(spec: str) -> Callable[..., Any]:
    """``"package.module:function"`` -> the function; :class:`NotAvailable` when absent."""
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name and module_name.startswith(err.name):  # the module itself, not one it imports
            raise NotAvailable("not available yet") from err
        raise
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise NotAvailable("not available yet")
    return fn  # type: ignore[no-any-return]


def call_by_name(fn: Callable[..., Any], pool: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], Any]:
    """A caller of ``fn`` that takes its arguments by parameter name from ``pool`` (plus per-call
    overrides); :class:`NotAvailable` names a required parameter the pool cannot supply."""
    params = inspect.signature(fn).parameters.values()
    use = [
        p for p in params if p.name in pool and p.kind is not p.VAR_KEYWORD and p.kind is not p.VAR_POSITIONAL
    ]
    missing = [p.name for p in params if p.name not in pool and p.default is p.empty
               and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]  # fmt: skip
    if missing:
        raise NotAvailable(
            f"cannot supply parameter(s) {', '.join(missing)} of {fn.__module__}.{fn.__qualname__}"
        )
    positional = [p.name for p in use if p.kind is p.POSITIONAL_ONLY]
    keywords = [p.name for p in use if p.kind is not p.POSITIONAL_ONLY]

    def call(overrides: Mapping[str, Any]) -> Any:
        values = {**pool, **overrides}
        return fn(*(values[n] for n in positional), **{n: values[n] for n in keywords})

    return call


def _pct(samples: list[float]) -> dict[str, float]:
    s = sorted(samples)
    pick = lambda q: s[min(len(s) - 1, int(q * len(s)))]  # noqa: E731 - nearest rank
    return {"p50": round(pick(0.50), 3), "p95": round(pick(0.95), 3), "p99": round(pick(0.99), 3),
            "max": round(s[-1], 3), "mean": round(statistics.fmean(s), 3), "n": len(s)}  # fmt: skip


def _settle() -> None:
    """As ``tracker serve`` does after start-up: what was built so far lives as long as the
    process, so keep it out of the collector's full scans (their pauses would be the p99)."""
    gc.collect()
    gc.freeze()


def synthetic_model(n_items: int) -> ReadModel:
    """A read model of the synthetic corpus, built without a database."""
    reports = []
    for rid, (key, title, aliases) in enumerate(corpus.reports(n_items), start=1):
        reports.append(ReportView(rid, key, title, "national_thematic", dt.date(2022, 11, 2), None, aliases))
    rid_of = {r.key: r.id for r in reports}
    created = dt.datetime(2026, 8, 1, tzinfo=dt.UTC)
    items = tuple(
        ItemView(n, rid_of[i.report_key], i.kind, i.number, i.text, "Chief constables", i.status != "not_for_us",
                 i.deadline, i.due, i.owner, None, i.themes, i.status, None, None, None, None, 1, created, created, None)
        for n, i in enumerate(corpus.items(n_items, TODAY), start=1)
    )  # fmt: skip
    model = ReadModel(None)  # type: ignore[arg-type]  # in memory only: never loads or refreshes
    model._install(Snapshot(seq=1, reports=tuple(reports), items=items))
    model.warm()  # as tracker serve does after loading
    return model


def _texts(n_items: int, count: int) -> list[str]:
    """What people type, from the load benchmark's own mix, plus the hardest known resolutions."""
    said = [s.text for script in TrackerMix(n_items, today=TODAY).scripts for s in script
            if s.invoke is None and s.kind is not Kind.CONFIRM and s.text != "more"]  # fmt: skip
    hard = [
        "show the counter corruption one",
        "who owns the body worn video one",
        "mark rec 12 of vetting as evidenced: done",
    ]
    return (said * (count // max(1, len(said)) + 1))[:count] + hard * 50


def understanding(n_items: int = 100_000, messages: int = 3000) -> dict[str, Any]:
    """Time to understand one message (routing + report and item resolution) at ``n_items``."""
    understand, context, resolver_cls = language()
    t0 = time.perf_counter()
    model = synthetic_model(n_items)
    resolver = resolver_cls(model)
    build_s = time.perf_counter() - t0
    texts = _texts(n_items, messages)
    ctx = context(last_report_key="vetting")
    for text in texts[:200]:
        understand(text, ctx, resolver, TODAY)
    _settle()
    samples = []
    for text in texts:
        t = time.perf_counter()
        understand(text, ctx, resolver, TODAY)
        samples.append((time.perf_counter() - t) * 1000)
    lat = _pct(samples)
    return {"items": n_items, "index_build_s": round(build_s, 2), "latency_ms": lat,
            "summary": f"{n_items:,} items: p50 {lat['p50']} ms, p95 {lat['p95']} ms, p99 {lat['p99']} ms "
                       f"over {lat['n']:,} messages (index built in {build_s:.1f} s)"}  # fmt: skip


def search(n_items: int = 100_000, queries: int = 2000) -> dict[str, Any]:
    """Time of one message-extension query (``searchItems``) at ``n_items``, first page or second."""
    fn = entry_point(SEARCH_ENTRY)
    _, _, resolver_cls = language()
    model = synthetic_model(n_items)
    resolver = resolver_cls(model)
    pool = {"model": model, "read_model": model, "resolver": resolver, "query": "", "text": "", "skip": 0,
            "count": 25, "today": TODAY, "now": NOW, "tz": TZ, "user": Actor("Bench User", "aad-bench"),
            "actor": Actor("Bench User", "aad-bench")}  # fmt: skip
    call = call_by_name(fn, pool)
    _settle()
    terms = [*SEARCH_TERMS, *(f"{alias} {n}" for alias in ("vetting", "fraud", "CDI") for n in range(1, 30))]
    calls = [
        {"query": t, "text": t, "skip": 25 if n % 4 == 3 else 0}
        for n, t in enumerate(terms * (queries // len(terms) + 1))
    ]
    first, samples = _time_calls(call, [{"query": "vetting 12", "text": "vetting 12"}, *calls[:queries]])
    lat = _pct(samples)
    # A question asked before (since the last change) is answered from its kept ranking: the words'
    # first asking is the ranking's own cost, shown apart so repeats cannot hide it.
    seen, cold = {"vetting 12"}, []
    for c, ms in zip(calls[:queries], samples, strict=True):
        if str(c["text"]) not in seen:
            seen.add(str(c["text"]))
            cold.append(ms)
    cold_lat = _pct(cold)
    size = len(first) if hasattr(first, "__len__") else None
    return {"items": n_items, "entry_point": SEARCH_ENTRY, "latency_ms": lat, "first_asked_ms": cold_lat,
            "first_page_size": size,
            "summary": f"{n_items:,} items: p50 {lat['p50']} ms, p99 {lat['p99']} ms over {lat['n']:,} queries; "
                       f"first asking of each ({cold_lat['n']}): p50 {cold_lat['p50']} ms, p99 {cold_lat['p99']} ms"}  # fmt: skip


def _time_calls(
    call: Callable[[Mapping[str, Any]], Any], overrides: list[dict[str, Any]]
) -> tuple[Any, list[float]]:
    """Call once per ``overrides`` (the first untimed), timing each in ms; a coroutine function's
    calls all run in one event loop, so the loop's own start-up is not in the figure."""

    async def timed() -> tuple[Any, list[float]]:
        first, samples = None, []
        for n, o in enumerate(overrides):
            t = time.perf_counter()
            result = call(o)
            if inspect.isawaitable(result):
                result = await result
            if n == 0:
                first = result
            else:
                samples.append((time.perf_counter() - t) * 1000)
        return first, samples

    return asyncio.run(timed())


def _has_chart(result: Any, out: Path) -> bool | None:
    """Does the paper embed a picture (the chart)? None when its form is unknown."""
    if hasattr(result, "inline_shapes"):  # a python-docx Document
        return len(result.inline_shapes) > 0
    data: bytes | None = None
    if isinstance(result, bytes | bytearray):
        data = bytes(result)
    elif isinstance(result, str | Path) and Path(result).is_file():
        data = Path(result).read_bytes()
    elif out.is_file():
        data = out.read_bytes()
    if data is None:
        return None
    try:
        with zipfile.ZipFile(__import__("io").BytesIO(data)) as docx:
            return any(name.startswith("word/media/") for name in docx.namelist())
    except zipfile.BadZipFile:
        return None


def paper(n_items: int = 10_000, repeats: int = 3) -> dict[str, Any]:
    """Time to write the committee paper (figures from the history, then the document with its chart)
    from a seeded database of ``n_items``: what ``tracker pack`` does after start-up."""
    build_pack = entry_point(PAPER_ENTRY)
    from bench.seed_db import fill
    from storage.committee import figures, load_history
    from storage.db import upgrade_database
    from storage.store import Store

    with tempfile.TemporaryDirectory(prefix="bench-paper-") as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/tracker.db"
        upgrade_database(url)
        out = Path(tmp) / "pack.docx"

        async def measure() -> tuple[list[float], bool | None]:
            await fill(url, n_items, TODAY)
            async with await Store.open(url) as store:
                samples, chart = [], None
                for _ in range(repeats):
                    t = time.perf_counter()
                    history = await load_history(store, TZ)
                    data = build_pack(figures(history, TODAY, TODAY - dt.timedelta(days=91)))
                    out.write_bytes(data)
                    samples.append(time.perf_counter() - t)
                    chart = _has_chart(data, out)
                return samples, chart

        samples, chart = asyncio.run(measure())
    worst = round(max(samples), 3)
    return {"items": n_items, "entry_point": PAPER_ENTRY, "seconds": worst, "runs_s": [round(s, 3) for s in samples],
            "chart": chart, "summary": f"{n_items:,} items: {worst} s (slowest of {len(samples)}); chart "
            f"{'embedded' if chart else 'NOT found' if chart is False else 'not checked (unknown result type)'}"}  # fmt: skip


def digest(n_items: int = 10_000, n_events: int = 3000, repeats: int = 5) -> dict[str, Any]:
    """Time to build the weekly digest card at ``n_items`` (with a busy week of events)."""
    model = synthetic_model(n_items)
    items = list(model.items.values())
    events = tuple(
        EventView(n, items[n % len(items)].id, NOW - dt.timedelta(hours=n % 160), "status_changed", "status",
                  "open", "evidenced" if n % 3 else "signed_off", f"Officer {n % 40}", f"aad-{n % 40}", "teams",
                  "conv", f"act-{n}", None)
        for n in range(n_events)
    )  # fmt: skip
    _settle()  # the model lives as long as tracker serve's: out of the collector's full scans there too
    samples, size = [], 0
    for _ in range(repeats):
        t = time.perf_counter()
        card, fallback = build_digest(items, model.reports, events, NOW, TZ)
        samples.append((time.perf_counter() - t) * 1000)
        size = len(json.dumps({**card, "fallbackText": fallback[:4000]}).encode())
    lat = _pct(samples)
    return {"items": n_items, "events": n_events, "build_ms": lat, "card_bytes": size,
            "summary": f"{n_items:,} items / {n_events:,} events: p50 {lat['p50']} ms, slowest of {lat['n']} "
                       f"{lat['max']} ms; card {size:,} bytes"}  # fmt: skip


def _rss_figure(peak_kib: int, n_items: int, source: str) -> dict[str, Any]:
    mib, mb = peak_kib / 1024, peak_kib * 1024 / MB
    return {"items": n_items, "peak_rss_mib": round(mib, 1), "peak_rss_mb": round(mb, 1), "source": source,
            "summary": f"{n_items:,} items: {mib:.1f} MiB ({mb:.0f} MB), {source}"}  # fmt: skip


def rss_from_load_run(load_run: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The largest peak RSS of a one-instance 100,000-item Tracker target in the load run, if any ran:
    under mixed load, the stricter measure."""
    runs = [r for r in (load_run or {}).get("targets", [])
            if r["status"] == "ok" and r["name"].endswith("-100k") and r.get("rss_peak_kib")]  # fmt: skip
    if not runs:
        return None
    top = max(runs, key=lambda r: r["rss_peak_kib"])
    return _rss_figure(
        top["rss_peak_kib"], 100_000, f"{top['name']} round {top.get('round', 0) + 1}, under load"
    )


def rss_at(n_items: int = 100_000) -> dict[str, Any]:
    """Peak RSS of ``tracker serve`` holding ``n_items`` items, after answering a few turns of the mix."""
    with tempfile.TemporaryDirectory(prefix="bench-rss-") as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/tracker.db"
        subprocess.run([sys.executable, "-m", "bench.seed_db", url, "--items", str(n_items)], check=True, cwd=REPO,
                       timeout=900)  # fmt: skip
        port = _free_port()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "PORT": str(port),
            "TRACKER_SCHEDULER": "off",
            "LOG_LEVEL": "WARNING",
        }
        proc = subprocess.Popen([str(REPO / ".venv/bin/tracker"), "serve"], env=env, cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            asyncio.run(_ask_a_few(port, n_items))
            status = Path(f"/proc/{proc.pid}/status").read_text()
            peak = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return _rss_figure(peak, n_items, "own tracker serve after 200 mixed turns")


async def _ask_a_few(port: int, n_items: int) -> None:
    from bench.loadgen import PhaseConfig, new_client_session, run_phase
    from bench.mock_connector import MockConnector
    from bench.target import http_ready

    base = f"http://127.0.0.1:{port}"
    ready = http_ready("/healthz")
    for _ in range(360):  # bounded wait for start-up (index build), 0.5 s apart
        if await ready(base):
            break
        await asyncio.sleep(0.5)
    async with MockConnector() as connector, new_client_session(4) as session:
        await run_phase(session=session, connector=connector, target_url=base + "/api/messages",
                        config=PhaseConfig(4, 200, 60.0), traffic=TrackerMix(n_items))  # fmt: skip


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_all(
    names: list[str] | None = None, *, quick: bool = False, load_run: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The named figures (default: all); each is ``{"status": "ok", ...}`` or says why not."""
    jobs: dict[str, Callable[[], dict[str, Any]]] = {
        "micro-understanding": lambda: understanding(messages=1000 if quick else 3000),
        "micro-search": lambda: search(queries=500 if quick else 2000),
        "micro-paper": lambda: paper(repeats=1 if quick else 3),
        "micro-digest": lambda: digest(repeats=3 if quick else 5),
        "micro-rss": lambda: rss_from_load_run(load_run) or rss_at(),
    }
    out: dict[str, Any] = {}
    for name in names or list(jobs):
        try:
            out[name] = {"status": "ok", **jobs[name]()}
        except NotAvailable as why:
            out[name] = {
                "status": str(why),
                "entry_point": SEARCH_ENTRY if name == "micro-search" else PAPER_ENTRY,
            }
        except Exception as exc:  # one broken figure must not lose the others
            out[name] = {"status": f"failed: {type(exc).__name__}: {exc}"}
    return out


if __name__ == "__main__":
    from bench.report import format_micro

    figures = run_all(sys.argv[1:] or None)
    print("\n".join(format_micro(figures)))
    print(json.dumps(figures, indent=2))
