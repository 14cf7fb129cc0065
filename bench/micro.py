"""In-process measurements: resolution at 100,000 items, the digest at 10,000, peak RSS at 100,000.

``python -m bench.micro`` prints the figures and returns them as a dict (``bench.run`` adds them
to its JSON). Timings are per call, over many calls, as percentiles in milliseconds.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench import corpus
from bot.resolve import Resolver
from bot.understand import Context, understand
from dialogs.digest import build_digest
from storage.readmodel import ReadModel
from storage.views import EventView, ItemView, ReportView, Snapshot

REPO = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 11, 25)
NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)


def _pct(samples: list[float]) -> dict[str, float]:
    s = sorted(samples)
    pick = lambda q: s[min(len(s) - 1, int(q * len(s)))]  # noqa: E731 - nearest rank
    return {"p50": round(pick(0.50), 3), "p95": round(pick(0.95), 3), "p99": round(pick(0.99), 3),
            "mean": round(statistics.fmean(s), 3), "n": len(s)}  # fmt: skip


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
    return model


def resolution(n_items: int = 100_000, messages: int = 3000) -> dict[str, Any]:
    """Time to understand one message (routing + report and item resolution) at ``n_items``."""
    t0 = time.perf_counter()
    model = synthetic_model(n_items)
    resolver = Resolver(model)
    resolver.warm()
    build_s = time.perf_counter() - t0
    texts = corpus.messages(n_items, count=messages) + [
        "show the counter corruption one", "who owns the body worn video one", "mark rec 12 of vetting as evidenced: done",
    ] * 50  # fmt: skip
    ctx = Context(last_report_key="vetting")
    for text in texts[:200]:
        understand(text, ctx, resolver, TODAY)
    gc.collect()
    samples = []
    for text in texts:
        t = time.perf_counter()
        understand(text, ctx, resolver, TODAY)
        samples.append((time.perf_counter() - t) * 1000)
    return {"items": n_items, "index_build_s": round(build_s, 2), "latency_ms": _pct(samples)}


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
    tz = ZoneInfo("Europe/London")
    samples, size = [], 0
    for _ in range(repeats):
        t = time.perf_counter()
        card, fallback = build_digest(items, model.reports, events, NOW, tz)
        samples.append((time.perf_counter() - t) * 1000)
        size = len(json.dumps({**card, "fallbackText": fallback[:4000]}).encode())
    return {"items": n_items, "events": n_events, "build_ms": _pct(samples), "card_bytes": size}


def rss_at(n_items: int = 100_000) -> dict[str, Any]:
    """Peak RSS of ``tracker serve`` holding ``n_items`` items, after answering a few messages."""
    with tempfile.TemporaryDirectory(prefix="bench-rss-") as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/tracker.db"
        subprocess.run(
            [sys.executable, "-m", "bench.seed_db", url, "--items", str(n_items)],
            check=True,
            cwd=REPO,
            timeout=600,
        )
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
            started = time.perf_counter()
            asyncio.run(_ask_a_few(port, corpus.messages(n_items, count=30)))
            ready_s = time.perf_counter() - started
            status = Path(f"/proc/{proc.pid}/status").read_text()
            peak = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return {"items": n_items, "peak_rss_mib": round(peak / 1024, 1), "start_and_answer_s": round(ready_s, 1)}


async def _ask_a_few(port: int, texts: list[str]) -> None:
    import aiohttp

    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        for _ in range(240):  # bounded wait for start-up (index build), 0.5 s apart
            try:
                async with http.get(f"{base}/healthz") as r:
                    if r.status == 200:
                        break
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)
        for n, text in enumerate(texts):
            activity = {"type": "message", "id": f"m{n}", "channelId": "msteams", "serviceUrl": "http://127.0.0.1:9/",
                        "from": {"id": "29:u", "name": "U"}, "recipient": {"id": "28:b", "name": "Tracker"},
                        "conversation": {"id": f"c{n}", "conversationType": "personal"}, "text": text}  # fmt: skip
            async with http.post(f"{base}/api/messages", json=activity) as r:
                await r.read()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_all() -> dict[str, Any]:
    out = {"resolution_100k": resolution(), "digest_10k": digest(), "rss_100k": rss_at()}
    return out


def format_micro(m: dict[str, Any]) -> str:
    r, d, s = m["resolution_100k"], m["digest_10k"], m["rss_100k"]
    return "\n".join([
        f"resolution at {r['items']:,} items: p50 {r['latency_ms']['p50']} ms, p95 {r['latency_ms']['p95']} ms, "
        f"p99 {r['latency_ms']['p99']} ms (index built in {r['index_build_s']} s)",
        f"digest at {d['items']:,} items / {d['events']:,} events: p50 {d['build_ms']['p50']} ms, "
        f"max of {d['build_ms']['n']} {max(d['build_ms']['p99'], d['build_ms']['p50'])} ms; card {d['card_bytes']:,} bytes",
        f"peak RSS of tracker serve at {s['items']:,} items: {s['peak_rss_mib']} MiB",
    ])  # fmt: skip


if __name__ == "__main__":
    figures = run_all()
    print(format_micro(figures))
    print(json.dumps(figures, indent=2))
