"""SQLite: readers never wait for a writer; writers queue behind each other."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from meritline.db.engine import create_db_engine
from meritline.db.migrate import upgrade
from meritline.db.session import Database
from meritline.people import service as people
from tests.fixtures.factories import import_lines, new_tenant, person_line


def test_a_read_only_unit_of_work_does_not_wait_for_a_writer(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lock.db'}"
    upgrade(url)
    database = Database(create_db_engine(url))
    operator = new_tenant(database)
    import_lines(database, operator, [person_line("E1"), person_line("E2", "E1")])
    writer = sqlite3.connect(tmp_path / "lock.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a long import holds the write lock
    try:
        started = time.perf_counter()
        with database.unit_of_work(operator.tenant_id, read_only=True) as session:
            page = people.list_employees(session, operator)
        assert page.total == 2
        assert time.perf_counter() - started < 5  # the busy timeout is 30 s
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        database.dispose()
