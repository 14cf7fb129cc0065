"""The ``tracker`` command: serve, db, import/export, seed-demo, parse, chat, history, digest, remind, manifest."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.logs import setup_logging
from bot.settings import Settings, SettingsError

if TYPE_CHECKING:
    from bot.services import Clock
    from dialogs.digest import DigestConfig
    from storage.store import Store

log = logging.getLogger("tracker")


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as err:
        print(err, file=sys.stderr)
        raise SystemExit(2) from err


async def _open_store(settings: Settings) -> Store:
    from storage.store import Store

    return await Store.open(settings.database_url)


# ---- commands -------------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from bot.app import create_app, new_event_loop
    from bot.services import digest_task, reminders_task

    settings = _settings()
    setup_logging(settings.log_level)
    background = [digest_task, reminders_task] if settings.scheduler else []
    host = args.host or settings.host  # --host/--port beat HOST/PORT
    port = args.port if args.port is not None else settings.port
    if not settings.auth_enabled and not _loopback(host):
        if not settings.insecure_local:
            print(f"tracker: refusing to listen on {host}: with no MicrosoftAppId (local mode) nobody is "
                  "authenticated and anyone who can reach the port could write. Listen on 127.0.0.1, set "
                  "MicrosoftAppId, or set TRACKER_INSECURE_LOCAL=on to accept the risk.", file=sys.stderr)  # fmt: skip
            return 2
        logging.getLogger(__name__).warning(
            "local mode (no MicrosoftAppId) listening on %s: unauthenticated writes are accepted "
            "(TRACKER_INSECURE_LOCAL=on)", host)  # fmt: skip
    web.run_app(create_app(settings, background=tuple(background), freeze_gc=True), host=host, port=port,
                print=lambda *_: None, access_log=None, loop=new_event_loop(settings))  # fmt: skip
    return 0


def _loopback(host: str) -> bool:
    """Is ``host`` a loopback interface (127.0.0.0/8, ::1, localhost)?"""
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _port(value: str) -> int:
    """A TCP port for ``--port``: 1 to 65535."""
    if not value.isdecimal() or not 1 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port (1 to 65535)")
    return int(value)


def cmd_db(args: argparse.Namespace) -> int:
    from storage.db import upgrade_database

    settings = _settings()
    setup_logging(settings.log_level, json_lines=False)
    upgrade_database(settings.database_url, args.revision)
    print(f"database at {args.revision}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from storage.importer import ImportRejected, import_file, terminal_progress
    from storage.views import Actor

    settings = _settings()
    setup_logging(settings.log_level, json_lines=False)

    async def run() -> int:
        store = await _open_store(settings)
        try:
            result = await import_file(store, Path(args.file), dry_run=args.dry_run, actor=Actor(args.actor),
                                       progress=terminal_progress(sys.stderr), sheet=args.sheet,
                                       overwrite=args.overwrite)  # fmt: skip
        except ImportRejected as err:
            print(err.render(), file=sys.stderr)
            return 1
        finally:
            await store.close()
        print(result.render())
        return IMPORT_CONFLICTS if result.conflicts else 0

    return asyncio.run(run())


IMPORT_CONFLICTS = 3
"""``tracker import`` exit code when rows were left alone as conflicts (1: the file was rejected)."""


def cmd_export(args: argparse.Namespace) -> int:
    import datetime as dt

    from storage.exporter import export_file

    settings = _settings()

    async def run() -> int:
        store = await _open_store(settings)
        try:
            n = await export_file(store, Path(args.file), today=dt.datetime.now(settings.tz).date())
        finally:
            await store.close()
        print(f"exported {n} items to {args.file}")
        return 0

    return asyncio.run(run())


def cmd_seed(args: argparse.Namespace) -> int:
    from storage.demo import seed_demo

    settings = _settings()
    setup_logging(settings.log_level, json_lines=False)

    async def run() -> int:
        store = await _open_store(settings)
        try:
            if args.if_empty and (await store.snapshot()).items:
                print("database already has items: demo data not loaded")
                return 0
            print(await seed_demo(store))
        finally:
            await store.close()
        return 0

    return asyncio.run(run())


def cmd_parse(args: argparse.Namespace) -> int:
    from dialogs.language import Context, Index, Resolver, understand
    from storage.readmodel import ReadModel

    settings = _settings()
    setup_logging("WARNING", json_lines=False)

    async def run() -> int:
        import datetime as dt

        store = await _open_store(settings)
        try:
            model = ReadModel(store)
            await model.load()
        finally:
            await store.close()
        resolver = Resolver(Index(model))
        today = _day_arg(args.today, "--today") if args.today else dt.datetime.now(settings.tz).date()
        if today is None:
            return 2
        ctx = Context(last_report_key=args.context)
        lines: Iterable[str] = [args.text] if args.text is not None else sys.stdin
        for line in lines:
            line = line.rstrip("\n")
            parsed = understand(line, ctx, resolver, today)
            out: dict[str, Any] = {"text": line, **parsed.to_json()}
            print(
                json.dumps(out, ensure_ascii=False) if args.json or args.text is None else _pretty(out),
                flush=True,
            )
        return 0

    return asyncio.run(run())


def _pretty(out: dict[str, Any]) -> str:
    return "\n".join(f"{k}: {v}" for k, v in out.items() if v not in (None, [], False, ""))


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.console import ConsoleAdapter, reply_text
    from bot.services import services

    settings = _settings()
    setup_logging("WARNING", json_lines=False)

    if args.today is not None:
        day = _day_arg(args.today, "--today")
        if day is None:
            return 2
        clock = _clock_on(day, settings.tz)
    else:
        from bot.services import utc_clock as clock

    async def run() -> int:
        adapter = ConsoleAdapter()
        async with services(settings, clock=clock, typing_delay=0) as svc:

            async def say(text: str) -> None:
                for reply in await adapter.say(svc.bot, text, user=args.as_, conversation=args.conversation):
                    if args.json:
                        print(json.dumps(reply.serialize(), ensure_ascii=False, default=str), flush=True)
                    else:
                        print(reply_text(reply) + "\n", flush=True)

            if args.message:
                await say(" ".join(args.message))
                return 0
            print(
                f"Tracker chat as {args.as_} (conversation {args.conversation}). Ctrl-D to leave.",
                file=sys.stderr,
            )
            loop = asyncio.get_running_loop()
            while True:
                line = await loop.run_in_executor(None, _prompt)
                if line is None:
                    return 0
                if line.strip():
                    await say(line)

    return asyncio.run(run())


def _prompt() -> str | None:
    try:
        return input("you> ")
    except EOFError:
        return None


def cmd_history(args: argparse.Namespace) -> int:
    from dialogs.cards import events_text, item_label
    from dialogs.language import Context, Index, Resolver, understand
    from storage.readmodel import ReadModel
    from storage.store import NotFound

    settings = _settings()
    setup_logging("WARNING", json_lines=False)

    async def run() -> int:
        import datetime as dt

        store = await _open_store(settings)
        try:
            item_id = int(args.item) if args.item.isdigit() and not args.by_number else None
            if item_id is None:
                model = ReadModel(store)
                await model.load()
                parsed = understand(f"show {args.item}", Context(), Resolver(Index(model)), dt.date.today())
                if parsed.item is None:
                    print(
                        f"no single item matches {args.item!r}; give its id or the report and number",
                        file=sys.stderr,
                    )
                    return 1
                item_id = parsed.item.id
            try:
                detail = await store.item_detail(item_id)
                events = await store.history(item_id)
            except NotFound:
                print(f"no item {item_id}", file=sys.stderr)
                return 1
            print(
                f"#{item_id} {item_label(detail.item, detail.report, short=False)} (status {detail.item.status}, version {detail.item.version})"
            )
            for line in events_text(events):
                print(line)
            return 0
        finally:
            await store.close()

    return asyncio.run(run())


def cmd_digest(args: argparse.Namespace) -> int:
    settings = _settings()
    setup_logging(settings.log_level, json_lines=args.action == "send")
    return asyncio.run(
        digest_command(settings, args.action, now=args.now, week=args.week, channel=args.channel)
    )


async def digest_command(
    settings: Settings, action: str, now: bool, *, clock: Clock | None = None, out: TextIO | None = None,
    config: DigestConfig | None = None, week: str | None = None, channel: str | None = None,
) -> int:  # fmt: skip
    """``tracker digest preview`` prints the text digest; ``send [--now]`` sends this week's to those not
    yet served; ``status [--week W]`` lists every channel's delivery; ``resend --week W [--channel C]``
    sends again what was uncertain or failed, once an operator has checked the channel."""
    import datetime as dt

    from bot.services import digest_config, services, utc_clock
    from dialogs.digest import this_weeks_run, week_key
    from storage.deliveries import Deliveries

    out = out or sys.stdout
    async with services(settings, clock=clock or utc_clock, typing_delay=0) as svc:
        current = svc.clock()
        if action == "preview":
            _, text = await svc.digest.build(current)
            print(text, file=out)
            return 0
        if action not in ("send", "status", "resend"):
            print(f"unknown digest action {action!r}: use preview, send, status or resend", file=sys.stderr)
            return 2
        slot = this_weeks_run(current, settings.digest_weekday, settings.digest_time, settings.tz)
        ledger = Deliveries(svc.store, lease=dt.timedelta(seconds=settings.digest_lease_seconds))
        if week is not None and not _WEEK.match(week):
            print(f"--week must look like 2026-W48, not {week!r}", file=sys.stderr)
            return 2
        if action == "status":
            return await _digest_status(svc, ledger, week or week_key(slot, settings.tz), out)
        if action == "resend":
            if week is None:
                print("resend needs --week W (see 'tracker digest status')", file=sys.stderr)
                return 2
            subs = {s.conversation_id: s.id for s in await svc.subscriptions.active()}
            if channel is not None and channel not in subs:
                print(f"no active subscription for channel {channel!r}", file=sys.stderr)
                return 2
            released = await ledger.release(week, {subs[channel]} if channel else None)
            print(f"released for a resend: {len(released)} deliveries", file=out)
            report = await svc.digest_sender(
                config or digest_config(settings, retry_after=dt.timedelta(0))
            ).run(week)
            print(report.render(), file=out)
            return await _digest_left(ledger, week, out)
        if not now and current < slot:
            local = slot.astimezone(settings.tz)
            print(f"This week's digest is due {local:%A %-d %B at %H:%M} ({settings.timezone}): nothing sent. "
                  "Use --now to send it now.", file=out)  # fmt: skip
            return 0
        # An operator asking again may retry a refused send at once; uncertain ones stay unsent.
        config = config or digest_config(settings, retry_after=dt.timedelta(0))
        report = await svc.digest_sender(config).run(week_key(slot, settings.tz))
        print(report.render(), file=out)
        for label, ids in (("failed", report.failed), ("uncertain (check the channel)", report.uncertain)):
            if ids:
                print(f"{label}: subscriptions {', '.join(map(str, sorted(ids)))}", file=out)
        return await _digest_left(ledger, report.week, out) or (1 if report.failed or report.uncertain else 0)


_WEEK = re.compile(r"^\d{4}-W\d{2}$")


async def _digest_status(svc: Any, ledger: Any, week: str, out: TextIO) -> int:
    """Every subscribed channel's delivery of ``week``: one line each, then a summary."""
    rows = {d.subscription_id: d for d in await ledger.for_week(week)}
    subs = await svc.subscriptions.active()
    print(f"digest {week}: {len(subs)} active subscriptions", file=out)
    for sub in subs:
        d = rows.get(sub.id)
        when = (d.finished_at or d.claimed_at) if d else None
        extra = f" activity={d.activity_id}" if d and d.activity_id else ""
        extra += f" ({d.error})" if d and d.error and d.state != "sent" else ""
        print(f"  {sub.id:>4} {sub.conversation_id}  {d.state if d else 'not sent'}"
              f"{'  ' + when.isoformat(timespec='seconds') if when else ''}  attempts {d.attempts if d else 0}{extra}",
              file=out)  # fmt: skip
    return await _digest_left(ledger, week, out, quiet=True)


async def _digest_left(ledger: Any, week: str, out: TextIO, *, quiet: bool = False) -> int:
    """1 (and says so) when any delivery of ``week`` is uncertain or failed, else 0."""
    bad = [d for d in await ledger.for_week(week) if d.state in ("uncertain", "failed")]
    if bad:
        print(f"{len(bad)} deliveries of {week} uncertain or failed (subscriptions "
              f"{', '.join(str(d.subscription_id) for d in bad)}): check those channels, then "
              f"'tracker digest resend --week {week}' (optionally --channel C)", file=out)  # fmt: skip
        return 1
    if not quiet:
        print(f"every delivery of {week} recorded sent or skipped", file=out)
    return 0


def cmd_remind(args: argparse.Namespace) -> int:
    settings = _settings()
    setup_logging(settings.log_level, json_lines=args.action == "send")
    return asyncio.run(remind_command(settings, args.action, now=args.now))


async def remind_command(
    settings: Settings, action: str, now: bool, *, clock: Clock | None = None, out: TextIO | None = None,
) -> int:  # fmt: skip
    """``tracker remind preview`` shows who would be reminded of what; ``send [--now]`` sends this
    month's reminders (once per person) and today's nudges to those not yet served."""
    import datetime as dt

    from bot.services import services, utc_clock
    from dialogs.digest import DigestConfig

    out = out or sys.stdout
    async with services(settings, clock=clock or utc_clock, typing_delay=0) as svc:
        sched = svc.reminder_schedule
        sender = svc.reminder_sender(DigestConfig(retry_after=dt.timedelta(0)))
        current = svc.clock()
        if action == "preview":
            for nudge in (False, True):
                plans = await sender.plan(nudge=nudge)
                print(f"{'Nudges today' if nudge else 'Monthly reminders'} ({sched.label()}): "
                      f"{sum(p.reply is not None for p in plans)} of {len(plans)} people", file=out)  # fmt: skip
                for p in plans:
                    if p.reply is not None:
                        print(f"--- {p.person.name}\n{p.reply.text}", file=out)
            return 0
        if action != "send":
            print(f"unknown remind action {action!r}: use preview or send", file=sys.stderr)
            return 2
        slot = sched.this_month(current)
        if not now and current < slot:
            local = slot.astimezone(settings.tz)
            print(f"This month's reminders are due {local:%A %-d %B at %H:%M} ({settings.timezone}): "
                  "only today's nudges are sent. Use --now to send the monthly ones now.", file=out)  # fmt: skip
            reports = [await sender.run(sched.day_key(sched.daily(current)), nudge=True)]
        else:
            reports = [await sender.run(sched.month_key(slot)),
                       await sender.run(sched.day_key(current), nudge=True)]  # fmt: skip
        code = 0
        for report in reports:
            print(report.render().replace("digest", "reminders", 1), file=out)
            for label, ids in (("failed", report.failed), ("uncertain (ask them)", report.uncertain)):
                if ids:
                    print(f"{label}: people {', '.join(map(str, sorted(ids)))}", file=out)
                    code = 1
        return code


def cmd_manifest(args: argparse.Namespace) -> int:
    from bot.manifest import main_build

    settings = _settings()
    app_id = args.app_id or settings.app_id
    if not app_id:
        print("set MicrosoftAppId (or pass --app-id) to build the Teams app package", file=sys.stderr)
        return 2
    from bot.manifest import default_link_domains

    # Link previews: HMICFRS, the bot's own item links, and (asked for) every host the tracker's links use.
    links = default_link_domains(
        settings.public_url, asyncio.run(_stored_links(settings)) if args.links_from_db else ()
    )
    try:
        out = main_build(
            app_id,
            args.name or settings.bot_name,
            Path(args.out),
            args.version,
            list(args.domain or []),
            link_domains=links,
        )
    except ValueError as err:
        print(f"cannot build the package: {err}", file=sys.stderr)
        return 2
    print(f"wrote {out}")
    return 0


async def _stored_links(settings: Settings) -> list[str]:
    from storage.readmodel import ReadModel

    store = await _open_store(settings)
    try:
        model = ReadModel(store)
        await model.load()
        urls = [r.url for r in model.reports.values() if r.url]
        return urls + [i.source_url for i in model.items.values() if i.source_url]
    finally:
        await store.close()


def cmd_alias(args: argparse.Namespace) -> int:
    from storage.views import Actor

    settings = _settings()

    async def run() -> int:
        store = await _open_store(settings)
        try:
            report = next((r for r in await store.reports() if r.key == args.report), None)
            if report is None:
                print(f"no report with key {args.report!r}", file=sys.stderr)
                return 1
            added = await store.add_alias(report.id, args.alias, Actor(args.actor))
            print("alias added" if added else "that alias was already there")
            return 0
        finally:
            await store.close()

    return asyncio.run(run())


# ---- committee: meetings, inspections, the paper ------------------------------------------------------


def _day_arg(text: str, what: str) -> dt.date | None:
    """A date argument, or None after a one-line error."""
    from dialogs.committee.words import BadDate, parse_day

    try:
        return parse_day(text)
    except BadDate as err:
        print(f"tracker: {what}: {err}", file=sys.stderr)
        return None


def _clock_on(day: dt.date, tz: dt.tzinfo) -> Callable[[], dt.datetime]:
    """A clock whose date is ``day`` (local) and whose time of day is real: ``tracker chat --today``."""

    def clock() -> dt.datetime:
        return dt.datetime.combine(day, dt.datetime.now(tz).timetz()).astimezone(dt.UTC)

    return clock


def cmd_committee(args: argparse.Namespace) -> int:
    from storage.views import Actor, Source

    settings = _settings()
    today = dt.datetime.now(settings.tz).date()
    met_on = None
    if args.action == "add":
        if not args.date:
            print("tracker: committee add needs the DATE the committee met", file=sys.stderr)
            return 2
        met_on = _day_arg(args.date, "committee add")
        if met_on is None:
            return 2
        if met_on > today:
            print(
                f"tracker: {met_on.isoformat()} is in the future: record a meeting once it has met",
                file=sys.stderr,
            )
            return 2

    async def run() -> int:
        store = await _open_store(settings)
        try:
            if met_on is not None:
                meeting, created = await store.add_meeting(
                    met_on, Actor(args.actor), Source("cli"), name=args.name or "JAC"
                )
                if created:
                    print(f"recorded: {meeting.name} met on {meeting.met_on.isoformat()}")
                else:
                    print(
                        f"already recorded: {meeting.name} met on {meeting.met_on.isoformat()} (by {meeting.created_by or '?'})"
                    )
                return 0
            meetings = await store.meetings(args.name)
            if not meetings:
                print("no committee meetings recorded (add one: tracker committee add 2022-09-22)")
            for m in meetings:
                when = m.created_at.strftime("%Y-%m-%d %H:%M") if m.created_at else "?"
                print(
                    f"{m.met_on.isoformat()}  {m.name}  (recorded by {m.created_by or '?'} on {when}, {m.source or '?'})"
                )
            return 0
        finally:
            await store.close()

    return asyncio.run(run())


def cmd_inspection(args: argparse.Namespace) -> int:
    from storage.views import Actor

    settings = _settings()
    starts = None
    if args.action == "add":
        if not args.date or not args.name:
            print(
                "tracker: inspection add needs DATE and NAME, e.g. 2023-09-04 'PEEL fieldwork'",
                file=sys.stderr,
            )
            return 2
        starts = _day_arg(args.date, "inspection add")
        if starts is None:
            return 2

    async def run() -> int:
        store = await _open_store(settings)
        try:
            if starts is not None:
                row, created = await store.add_inspection(
                    starts, " ".join(args.name), Actor(args.actor), note=args.note
                )
                print(
                    ("recorded: " if created else "already recorded: ")
                    + f"{row.starts_on.isoformat()} {row.name}"
                )
                return 0
            rows = await store.inspections()
            if not rows:
                print("no inspections recorded (add one: tracker inspection add 2023-09-04 PEEL fieldwork)")
            for i in rows:
                print(f"{i.starts_on.isoformat()}  {i.name}" + (f" – {i.note}" if i.note else ""))
            return 0
        finally:
            await store.close()

    return asyncio.run(run())


def cmd_pack(args: argparse.Namespace) -> int:
    from dialogs.committee.pack import build_pack
    from storage.committee import figures, load_history

    settings = _settings()
    as_of = _day_arg(args.as_of, "--as-of")
    if as_of is None:
        return 2
    since = None
    if args.since is not None:
        since = _day_arg(args.since, "--since")
        if since is None:
            return 2
        if since >= as_of:
            print(
                f"tracker: --since {since.isoformat()} must be before --as-of {as_of.isoformat()}",
                file=sys.stderr,
            )
            return 2
    if not args.out and not args.json:
        print("tracker: pack needs --out FILE.docx, --json, or both", file=sys.stderr)
        return 2
    if args.pdf and not args.out:
        print("tracker: --pdf converts the --out FILE.docx: give --out too", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else None
    if out is not None and not out.parent.is_dir():
        print(f"tracker: cannot write {out}: folder {out.parent} does not exist", file=sys.stderr)
        return 2

    async def load():  # type: ignore[no-untyped-def]
        store = await _open_store(settings)
        try:
            history = await load_history(store, settings.tz)
            meeting = None if since is not None else await store.last_meeting_before(as_of, args.committee)
            return history, meeting, await store.inspections()
        finally:
            await store.close()

    history, meeting, inspections = asyncio.run(load())
    first = history.first_day
    if first is not None and as_of < first:
        print(f"tracker: --as-of {as_of.isoformat()} is before anything on the tracker (the first item joined on "
              f"{first.isoformat()}): nothing written", file=sys.stderr)  # fmt: skip
        return 2
    fig = figures(history, as_of, since if since is not None else (meeting.met_on if meeting else None),
                  meeting=meeting, inspections=inspections)  # fmt: skip
    said = sys.stderr if args.json else sys.stdout
    if fig.since is None:
        print(f"note: no {args.committee} meeting is recorded before {as_of.isoformat()}: counting since the tracker began "
              "(record one with 'tracker committee add DATE', or pass --since)", file=sys.stderr)  # fmt: skip
    if args.json:
        print(json.dumps(fig.to_json(), ensure_ascii=False), flush=True)
    if out is None:
        return 0
    data = build_pack(fig, committee=meeting.name if meeting else args.committee)
    tmp = out.with_name(f".{out.name}.partial")
    tmp.write_bytes(data)
    os.replace(tmp, out)  # all or nothing: a reader never sees half a document
    print(f"wrote {out} ({len(data) // 1024} KB): {fig.total} items, {fig.signed_off_since} signed off and "
          f"{len(fig.added)} added since {fig.since.isoformat() if fig.since else 'the start'}", file=said)  # fmt: skip
    if args.pdf:
        return _to_pdf(out, said)
    return 0


def _to_pdf(docx: Path, said: Any) -> int:
    """Convert with LibreOffice headless, where it is installed; say plainly when it is not."""
    import shutil
    import subprocess
    import tempfile

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        print(f"tracker: no PDF: LibreOffice is not installed here (apt-get install libreoffice-writer-nogui); "
              f"{docx} was written", file=sys.stderr)  # fmt: skip
        return 1
    with tempfile.TemporaryDirectory(prefix="tracker-lo-") as profile:
        try:
            done = subprocess.run(
                [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                 "--outdir", str(docx.parent), str(docx)],
                capture_output=True, text=True, timeout=180, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            print("tracker: no PDF: LibreOffice took over 3 minutes and was stopped", file=sys.stderr)
            return 1
    pdf = docx.with_suffix(".pdf")
    if done.returncode != 0 or not pdf.exists():
        detail = (done.stderr or done.stdout or "no output").strip().splitlines()[-1:] or ["?"]
        print(f"tracker: no PDF: LibreOffice failed ({detail[0][:200]})", file=sys.stderr)
        return 1
    print(f"wrote {pdf}", file=said)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tracker", description="HMICFRS recommendation tracker: a Microsoft Teams bot."
    )
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the bot (POST /api/messages, GET /healthz)")
    serve.add_argument("--host", help="address to listen on (default: HOST, else 127.0.0.1)")
    serve.add_argument("--port", type=_port, help="port to listen on (default: PORT, else 3978)")
    serve.set_defaults(func=cmd_serve)
    db = sub.add_parser("db", help="database migrations")
    db.add_argument("action", choices=["upgrade"])
    db.add_argument("revision", nargs="?", default="head")
    db.set_defaults(func=cmd_db)
    imp = sub.add_parser("import", help="import a CSV or XLSX tracker")
    imp.add_argument("file")
    imp.add_argument("--dry-run", action="store_true", help="show what would change, write nothing")
    imp.add_argument("--actor", default="tracker import", help="name recorded in the audit trail")
    imp.add_argument("--sheet", help="the workbook sheet to read (default: the one whose headers fit)")
    imp.add_argument(
        "--overwrite", action="store_true",
        help="take the file's values even over changes made since (audited as overwrites)",
    )  # fmt: skip
    imp.set_defaults(func=cmd_import)
    exp = sub.add_parser("export", help="export the tracker to FILE.xlsx or FILE.csv")
    exp.add_argument("file")
    exp.set_defaults(func=cmd_export)
    seed = sub.add_parser("seed-demo", help="load the demo data (JAC paper items and the sample CSV)")
    seed.add_argument("--if-empty", action="store_true", help="only when the database has no items")
    seed.set_defaults(func=cmd_seed)
    parse = sub.add_parser("parse", help="print what the bot understands from TEXT (or each stdin line)")
    parse.add_argument("text", nargs="?")
    parse.add_argument("--json", action="store_true")
    parse.add_argument("--context", help="the report key the conversation was last about")
    parse.add_argument(
        "--today", help="make 'today' this date (relative dates read from it), e.g. 2022-12-15"
    )
    parse.set_defaults(func=cmd_parse)
    chat = sub.add_parser("chat", help="talk to the bot in the terminal")
    chat.add_argument("message", nargs="*")
    chat.add_argument("--as", dest="as_", default="Local User", help="your display name")
    chat.add_argument("--conversation", default="console", help="conversation id (context persists)")
    chat.add_argument("--json", action="store_true", help="print reply activities as JSON")
    chat.add_argument("--today", help="make 'today' this date (reproduce a past committee), e.g. 2022-12-15")
    chat.set_defaults(func=cmd_chat)
    hist = sub.add_parser("history", help="print an item's audit trail (ITEM: id, or e.g. 'vetting rec 34')")
    hist.add_argument("item")
    hist.add_argument(
        "--by-number", action="store_true", help="treat a bare number as a printed number, not an id"
    )
    hist.set_defaults(func=cmd_history)
    dig = sub.add_parser("digest", help="preview or send the weekly digest")
    dig.add_argument("action", choices=["preview", "send", "status", "resend"])
    dig.add_argument("--week", help="ISO week of the ledger, e.g. 2026-W48 (status: default this week)")
    dig.add_argument("--channel", help="resend: only this subscribed conversation id")
    dig.add_argument(
        "--now", action="store_true", help="send now, even outside the schedule (still once a week)"
    )
    dig.set_defaults(func=cmd_digest)
    rem = sub.add_parser("remind", help="preview or send owner reminders (issue 15)")
    rem.add_argument("action", choices=["preview", "send"])
    rem.add_argument(
        "--now",
        action="store_true",
        help="send this month's reminders now, even before their day (still once a month)",
    )
    rem.set_defaults(func=cmd_remind)
    man = sub.add_parser("manifest", help="Teams app package")
    man.add_argument("action", choices=["build"])
    man.add_argument("--out", default="var/tracker-teams-app.zip")
    man.add_argument("--app-id")
    man.add_argument("--name")
    man.add_argument("--version", default="1.0.0")
    man.add_argument("--domain", action="append", help="extra valid domain (repeatable)")
    man.add_argument(
        "--links-from-db",
        action="store_true",
        help="preview links to every host the tracker's source links use (default: HMICFRS and TRACKER_PUBLIC_URL)",
    )
    man.set_defaults(func=cmd_manifest)
    alias = sub.add_parser("alias", help="teach the bot another name for a report")
    alias.add_argument("action", choices=["add"])
    alias.add_argument("report", help="report key")
    alias.add_argument("alias")
    alias.add_argument("--actor", default="tracker cli")
    alias.set_defaults(func=cmd_alias)
    com = sub.add_parser("committee", help="committee meetings: 'since the last JAC' counts from the latest")
    com.add_argument("action", choices=["add", "list"])
    com.add_argument("date", nargs="?", help="the day it met: 2022-09-22 or '22 September 2022'")
    com.add_argument("--name", default=None, help="committee name (default JAC)")
    com.add_argument("--actor", default="tracker cli", help="name recorded with the meeting")
    com.set_defaults(func=cmd_committee)
    insp = sub.add_parser("inspection", help="upcoming inspections, listed in the committee paper")
    insp.add_argument("action", choices=["add", "list"])
    insp.add_argument("date", nargs="?", help="when it starts: 2023-09-04")
    insp.add_argument("name", nargs="*", help="what it is, e.g. PEEL fieldwork")
    insp.add_argument("--note")
    insp.add_argument("--actor", default="tracker cli")
    insp.set_defaults(func=cmd_inspection)
    pack = sub.add_parser("pack", help="write the HMICFRS update paper for the committee (DOCX)")
    pack.add_argument("--as-of", required=True, help="the day the figures are for (e.g. the meeting date)")
    pack.add_argument(
        "--since", help="count changes after this day (default: the last meeting before --as-of)"
    )
    pack.add_argument("--out", help="FILE.docx to write")
    pack.add_argument("--json", action="store_true", help="print the figures as JSON")
    pack.add_argument(
        "--pdf", action="store_true", help="also convert to PDF with LibreOffice, where installed"
    )
    pack.add_argument(
        "--committee", default="JAC", help="committee name for 'since the last ...' (default JAC)"
    )
    pack.set_defaults(func=cmd_pack)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from storage.db import DATABASE_ERRORS

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except DATABASE_ERRORS as err:
        detail = str(getattr(err, "orig", None) or err).splitlines()[0][:200]
        print(
            f"tracker: database problem ({detail}). Is DATABASE_URL right, and has 'tracker db upgrade' run?",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
