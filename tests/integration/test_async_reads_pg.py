"""The async read path's pools (``ReadModels.async_connection``), on real PostgreSQL: each
event loop gets pools of its own, bounded at ``pool_size`` connections, that a loop's
shutdown (``aclose``) closes; without a replica the event log's reads share the queries'
pool, with one they go to the primary."""

from __future__ import annotations

import asyncio

import psycopg

from api.query_pool import ReadModels

EVENTS = "smschannels_events"


def backends(url: str, application_name: str) -> int:
    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
            (application_name,),
        ).fetchone()
        return int(row[0]) if row else 0


def test_each_loop_reads_on_pools_of_its_own_bounded_and_closed_at_shutdown(
    isolated_database_url: str,
) -> None:
    name = "async_reads_test"
    url = f"{isolated_database_url} application_name={name}"
    read_models = ReadModels(url, events_table=EVENTS, pool_size=2, wait_seconds=1.0)

    async def read_on_one_loop() -> list[int]:
        async def one() -> int:
            async with read_models.async_connection() as connection:
                cursor = await connection.execute("SELECT pg_backend_pid(), pg_sleep(0.05)")
                row = await cursor.fetchone()
                assert row is not None
                return int(row[0])

        return list(await asyncio.gather(*(one() for _ in range(6))))

    first = asyncio.run(read_on_one_loop())
    second = asyncio.run(read_on_one_loop())
    # Six concurrent reads on each loop share at most two connections (the bound).
    assert len(set(first)) <= 2
    assert len(set(second)) <= 2

    async def shutdown() -> None:
        async with read_models.async_connection(log=True) as connection:
            await connection.execute("SELECT 1")
        await read_models.aclose()

    asyncio.run(shutdown())
    # Nothing of the async pools (nor the sync ones) is left connected after shutdown.
    assert backends(isolated_database_url, name) == 0


def test_the_event_logs_reads_go_to_the_primary_and_share_the_pool_without_a_replica(
    isolated_database_url: str,
) -> None:
    alone = ReadModels(isolated_database_url, events_table=EVENTS, pool_size=1, wait_seconds=1.0)
    replica = isolated_database_url + " application_name=replica_test"
    split = ReadModels(
        isolated_database_url,
        events_table=EVENTS,
        pool_size=1,
        wait_seconds=1.0,
        read_conninfo=replica,
    )

    async def names(read_models: ReadModels) -> tuple[str, str, bool]:
        async with read_models.async_connection() as queries:
            cursor = await queries.execute("SELECT current_setting('application_name')")
            query_name = (await cursor.fetchone() or [""])[0]
        async with read_models.async_connection(log=True) as log:
            cursor = await log.execute("SELECT current_setting('application_name')")
            log_name = (await cursor.fetchone() or [""])[0]
        pools = read_models._async_pools()
        shared = pools.queries is pools.log
        await read_models.aclose()
        return query_name, log_name, shared

    assert asyncio.run(names(alone))[2]
    query_name, log_name, shared = asyncio.run(names(split))
    assert (query_name, log_name, shared) == ("replica_test", "", False)
