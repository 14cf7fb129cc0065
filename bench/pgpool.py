"""Why the fast path keeps its own PostgreSQL connections: ``python -m bench.pgpool [URL]``.

Runs the fast path's two most common statements (claim a key, read state rows) ``--pairs`` times
on ``asyncpg.Pool`` (``reset`` a no-op, as a pool for these statements would be set up) and on
:class:`storage.pgconns.PgConnections`, interleaved over ``--rounds``, and prints the client CPU
and wall time per pair (medians). Loopback PostgreSQL; a scratch table is made and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import time
import uuid
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from storage.pgconns import PgConnections

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
TABLE = f"bench_pgpool_{uuid.uuid4().hex[:8]}"


async def _no_reset(_conn: asyncpg.Connection) -> None:
    """Skip the pool's reset round trip (these statements leave no session state)."""


async def _pairs(runner: Any, pairs: int) -> tuple[float, float]:
    now = dt.datetime.now(dt.UTC)
    cpu, wall = time.process_time(), time.perf_counter()
    for n in range(pairs):
        await runner.execute(
            f"INSERT INTO {TABLE} VALUES ($1, $2) ON CONFLICT DO NOTHING", f"{id(runner)}:{n}", now
        )
        await runner.fetch(f"SELECT key FROM {TABLE} WHERE key = ANY($1::varchar[])", ["a", "b"])
    return (time.process_time() - cpu) / pairs * 1e6, (time.perf_counter() - wall) / pairs * 1e6


async def run(url: str, pairs: int, rounds: int) -> dict[str, tuple[float, float]]:
    u = make_url(url)
    params: dict[str, Any] = dict(host=u.host, port=u.port or 5432, user=u.username, password=u.password,
                                  database=u.database, statement_cache_size=256)  # fmt: skip
    admin = await asyncpg.connect(**params)
    await admin.execute(f"CREATE TABLE {TABLE} (key varchar(400) PRIMARY KEY, created_at timestamptz)")
    samples: dict[str, list[tuple[float, float]]] = {"asyncpg.Pool": [], "PgConnections": []}
    try:
        for _ in range(rounds):
            pool = await asyncpg.create_pool(**params, min_size=1, max_size=10, reset=_no_reset)
            samples["asyncpg.Pool"].append(await _pairs(pool, pairs))
            await pool.close()
            conns = await PgConnections.open(lambda: asyncpg.connect(**params), size=10)
            samples["PgConnections"].append(await _pairs(conns, pairs))
            await conns.close()
    finally:
        await admin.execute(f"DROP TABLE {TABLE}")
        await admin.close()
    return {
        k: (statistics.median(c for c, _ in v), statistics.median(w for _, w in v))
        for k, v in samples.items()
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("url", nargs="?", default=DEFAULT_URL)
    p.add_argument("--pairs", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    for name, (cpu, wall) in asyncio.run(run(args.url, args.pairs, args.rounds)).items():
        print(f"{name:14} client CPU {cpu:6.0f} µs per pair of statements, wall {wall:6.0f} µs")


if __name__ == "__main__":
    main()
