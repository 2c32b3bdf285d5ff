"""Nothing lost: the documented backups bring back every row of a seeded database.

PostgreSQL: pg_dump -Fc, then pg_restore into a new database. SQLite (the default): Python's
sqlite3 online backup API. Both copies are compared table by table, every row in order, and a
backup taken while a change is still uncommitted must not contain that change.
"""

from __future__ import annotations

import sqlite3
import subprocess

import psycopg
import pytest
from psycopg import sql

from .conftest import COMMAND_TIMEOUT, App, PgServer, pg_tool

pytestmark = pytest.mark.system

UNCOMMITTED = "Half-way through a change"

WRITE_AFTER_RESTORE = """
import json
from deals import services
from deals.models import Deal

deal = next(d for d in Deal.objects.open().order_by("id") if d.assessment().remaining >= 1)
result = services.concession_log(
    deal=deal, user=deal.owner, kind="other", amount="1.00",
    description="Logged after the restore", form_key="after-the-restore",
)
print("RESULT " + json.dumps({"concession": result.concession.pk, "created": result.created}))
"""


def seed_demo(app: App, database_url: str) -> None:
    # The demo data: deals in every state, retractions, approved and rejected exceptions.
    app.manage(app.env(database_url), "seed_demo", "--force")


def run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False
    )
    assert done.returncode == 0, f"{command[0]} failed:\n{done.stdout}\n{done.stderr}"


# PostgreSQL ------------------------------------------------------------------------------------


def pg_snapshot(conn: psycopg.Connection) -> dict[str, list]:
    """Every table's rows in a fixed order, every sequence's position, every constraint and
    index: everything a restore has to bring back for the app to carry on."""
    snapshot: dict[str, list] = {}
    tables = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
    ).fetchall()
    for (table,) in tables:
        width = len(
            conn.execute(
                sql.SQL("SELECT * FROM {} LIMIT 0").format(sql.Identifier(table))
            ).description
        )
        order = sql.SQL(", ").join(sql.SQL(str(i)) for i in range(1, width + 1))
        snapshot[table] = conn.execute(
            sql.SQL("SELECT * FROM {} ORDER BY {}").format(sql.Identifier(table), order)
        ).fetchall()
    snapshot["(sequences)"] = conn.execute(
        "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' "
        "ORDER BY sequencename"
    ).fetchall()
    # A CHECK's text comes back from a restore spelled differently (casts move about), so
    # checks are compared by name and table here, and one is shown to still bite below.
    snapshot["(constraints)"] = conn.execute(
        "SELECT conrelid::regclass::text, conname, contype, "
        "CASE WHEN contype = 'c' THEN '' ELSE pg_get_constraintdef(oid) END FROM pg_constraint "
        "WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2"
    ).fetchall()
    snapshot["(indexes)"] = conn.execute(
        "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
        "ORDER BY 1, 2"
    ).fetchall()
    return snapshot


def assert_worth_comparing(counts: dict[str, int]) -> None:
    """An empty table would compare equal to anything: the seed must have filled each."""
    assert all(n > 0 for n in counts.values()), counts


def test_pg_dump_and_pg_restore_bring_back_every_row(
    main_postgres: PgServer, fresh_database, app: App, tmp_path
):
    original = fresh_database()
    seed_demo(app, main_postgres.url(original))
    dump = tmp_path / "walkaway.dump"

    with main_postgres.connect(original) as conn:
        assert_worth_comparing(
            {
                table: conn.execute(
                    sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
                ).fetchone()[0]
                for table in (
                    "deals_deal",
                    "deals_concession",
                    "deals_dealevent",
                    "deals_floorchange",
                    "deals_notification",
                )
            }
            | {
                f"exception {status}": conn.execute(
                    "SELECT count(*) FROM deals_exceptionrequest WHERE status = %s", [status]
                ).fetchone()[0]
                for status in ("approved", "rejected")
            }
        )
        # A change in flight while the dump runs: the dump must hold the state before it.
        with main_postgres.connect(original) as writer:
            writer.autocommit = False
            writer.execute(
                "UPDATE deals_deal SET title = %s WHERE id = (SELECT min(id) FROM deals_deal)",
                [UNCOMMITTED],
            )
            run(
                [
                    pg_tool("pg_dump"),
                    "-Fc",
                    *main_postgres.tool_args(),
                    "-d",
                    original,
                    "-f",
                    str(dump),
                ],
                main_postgres.tool_env(),
            )
            writer.rollback()
        before = pg_snapshot(conn)

    restored = fresh_database("walkaway_system_restored", migrated=False)
    run(
        [pg_tool("pg_restore"), "--exit-on-error", "--no-owner", *main_postgres.tool_args(),
         "-d", restored, str(dump)],
        main_postgres.tool_env(),
    )  # fmt: skip
    with main_postgres.connect(restored) as conn:
        after = pg_snapshot(conn)
        with pytest.raises(psycopg.errors.CheckViolation, match="deal_floor_below_opening"):
            conn.execute("UPDATE deals_deal SET floor = opening_price")
    assert list(after) == list(before)
    for table in before:
        assert after[table] == before[table], f"{table} differs after the restore"
    assert UNCOMMITTED not in repr(after["deals_deal"])

    # The restored database carries on: the next concession gets a new id, not a taken one.
    written = app.run_script(main_postgres.url(restored), WRITE_AFTER_RESTORE)
    assert written["created"]
    assert written["concession"] > max(row[0] for row in before["deals_concession"])


# SQLite ------------------------------------------------------------------------------------------


def sqlite_snapshot(path) -> dict[str, list]:
    with sqlite3.connect(path) as conn:
        snapshot = {
            "(schema)": conn.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
            ).fetchall()
        }
        tables = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        ).fetchall()
        for (table,) in tables:
            quoted = '"' + table.replace('"', '""') + '"'
            snapshot[table] = conn.execute(f"SELECT * FROM {quoted} ORDER BY rowid").fetchall()  # noqa: S608 - a name from sqlite_master, quoted
    conn.close()
    return snapshot


def test_the_sqlite_backup_api_copies_every_row(app: App, tmp_path):
    # Runs on every run: SQLite is the default database and needs no server.
    original = tmp_path / "walkaway.sqlite3"
    copy = tmp_path / "backup.sqlite3"
    url = f"sqlite:///{original}"
    app.migrate(url)
    seed_demo(app, url)

    writer = sqlite3.connect(original, isolation_level=None)
    source = sqlite3.connect(original)
    target = sqlite3.connect(copy)
    try:
        # A change in flight while the backup runs: the copy must hold the state before it.
        writer.execute("BEGIN IMMEDIATE")
        writer.execute(
            "UPDATE deals_deal SET title = ? WHERE id = (SELECT min(id) FROM deals_deal)",
            [UNCOMMITTED],
        )
        source.backup(target)
        writer.execute("ROLLBACK")
    finally:
        for conn in (writer, source, target):
            conn.close()

    before, after = sqlite_snapshot(original), sqlite_snapshot(copy)
    for table in ("deals_deal", "deals_concession", "deals_dealevent", "deals_exceptionrequest"):
        assert before[table], f"{table} is empty: nothing to compare"
    assert list(after) == list(before)
    for table in before:
        assert after[table] == before[table], f"{table} differs in the backup"
    assert UNCOMMITTED not in repr(after["deals_deal"])
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
