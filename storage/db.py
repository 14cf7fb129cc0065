"""Engine and session factory for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/tracker.db"
# What a database that cannot be reached (or has not been migrated) raises, for callers that report it.
DATABASE_ERRORS: tuple[type[Exception], ...] = (OperationalError, ProgrammingError, OSError)
READS = "tracker_reads"  # an execution option: this engine's transactions only read


def is_sqlite(url: str) -> bool:
    """True for any SQLite URL."""
    return make_url(url).get_backend_name() == "sqlite"


def is_in_memory(url: str) -> bool:
    """An in-memory SQLite URL: each connection gets a database of its own (nothing is shared)."""
    u = make_url(url)
    return u.get_backend_name() == "sqlite" and (u.database in (None, "", ":memory:") or "mode=memory" in url)


def refuse_in_memory(url: str) -> None:
    """Raise ValueError for an in-memory SQLite URL: the loop connection's writes would never
    reach the engine's reads."""
    if is_in_memory(url):
        raise ValueError("an in-memory SQLite database cannot back the store; give a file")


def ensure_sqlite_dir(url: str) -> None:
    """Create the folder of a file-based SQLite database (``var/`` by default)."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
        Path(u.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def create_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> AsyncEngine:
    """An async engine with the pragmas and pool settings each backend needs."""
    if is_sqlite(url):
        ensure_sqlite_dir(url)
        engine = create_async_engine(url, echo=echo)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            # WAL lets readers run while a writer commits; busy_timeout makes a second writer
            # (another process, or the CLI while the bot runs) wait instead of failing at once.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.close()

        sqlite_transactions(engine.sync_engine)
        return engine
    engine = create_async_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size)

    @event.listens_for(engine.sync_engine, "checkout")
    def _closed_is_gone(dbapi_conn, _record, _proxy) -> None:  # type: ignore[no-untyped-def]
        # pool_pre_ping on asyncpg costs three round trips a checkout (BEGIN, ";", ROLLBACK): a
        # third of a write's. A connection the server closed (a restart, an idle timeout) is
        # already known closed to asyncpg, locally; raising DisconnectionError makes the pool
        # throw it away and check out another. What a check cannot see (a silent network
        # partition) fails its statement, and the pool then replaces every older connection.
        if dbapi_conn.driver_connection.is_closed():
            raise DisconnectionError("the server closed this connection")

    return engine


def sqlite_transactions(engine: Engine) -> None:
    """Let SQLAlchemy run SQLite's transactions: BEGIN IMMEDIATE for writers, BEGIN for readers."""

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn) -> None:  # type: ignore[no-untyped-def]
        # pysqlite's default deferred transactions let two writers both read, then one fails to
        # upgrade its lock; BEGIN IMMEDIATE takes the write lock up front instead. A reader must
        # not take it: it would hold every writer off (in WAL a reader needs no lock at all).
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READS) else "BEGIN IMMEDIATE")

    # Hand transaction control to SQLAlchemy so the BEGIN above is the one that runs.
    @event.listens_for(engine, "connect", insert=True)
    def _no_autobegin(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None


def session_factory(engine: AsyncEngine) -> async_sessionmaker:
    """Sessions that keep loaded attributes after commit (no lazy loads in async code)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def read_session_factory(engine: AsyncEngine) -> async_sessionmaker:
    """Sessions for units of work that only read (on SQLite they take no write lock)."""
    return async_sessionmaker(engine.execution_options(**{READS: True}), expire_on_commit=False)


def upgrade_database(url: str, revision: str = "head") -> None:
    """Apply Alembic migrations (synchronous: Alembic's async env runs its own event loop)."""
    from alembic import command
    from alembic.config import Config

    ensure_sqlite_dir(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(cfg, revision)
