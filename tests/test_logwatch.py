"""`hundred up` reads its parts' logs: what an operator hears about a traceback, and when a part
shows as degraded in /healthz (hundred/up/logwatch.py)."""

from __future__ import annotations

from pathlib import Path

from hundred.up.logwatch import REPEATED, WINDOW, LogWatch

BULK_DML = """\
12:00:01.000 | ERROR   | prefect.server.services.scheduler - Unexpected error in: schedule_deployments
Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/prefect/server/services/scheduler.py", line 142, in run_once
    await self._insert_scheduled_flow_runs(session=session, runs=runs)
  File "/venv/lib/python3.11/site-packages/sqlalchemy/orm/bulk_persistence.py", line 1, in _do_pre
    raise sa_exc.InvalidRequestError(
sqlalchemy.exc.InvalidRequestError: Can't evaluate bulk DML statement; please supply a bulk_dml decorated function
"""

LOCKED = """\
12:00:02.000 | ERROR   | prefect.server - Encountered error during state validation
Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/aiosqlite/core.py", line 63, in _connection_worker_thread
    result = function()
sqlite3.OperationalError: database is locked

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/prefect/server/orchestration/rules.py", line 329, in _validate
    await self.session.flush()
sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) database is locked
"""


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def watch(tmp_path: Path, earlier: str = "") -> tuple[LogWatch, Path, list[str], Clock]:
    log = tmp_path / "prefect.log"
    log.write_text(earlier, encoding="utf-8")
    said: list[str] = []
    clock = Clock()
    return LogWatch({"prefect": log}, said.append, clock), log, said, clock


def append(log: Path, text: str) -> None:
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(text)


def test_a_failure_is_said_once_per_kind_with_its_log_and_repeated_ones_make_the_part_degraded(tmp_path):
    lw, log, said, clock = watch(tmp_path)
    append(log, BULK_DML)
    lw.poll()
    assert said == [
        "  prefect: InvalidRequestError: Can't evaluate bulk DML statement; please supply a bulk_dml decorated function"
        f" (traceback in {log})"
    ]
    assert lw.report()["prefect"]["degraded"] is False
    for _ in range(REPEATED - 1):
        append(log, BULK_DML)
    lw.poll()
    assert len(said) == 1  # the same kind again is not said again
    report = lw.report()["prefect"]
    assert report["degraded"] is True and report["recent_failures"] == REPEATED
    clock.now += WINDOW + 1  # failures age out: the part is well again
    assert lw.report()["prefect"]["degraded"] is False


def test_what_an_earlier_run_wrote_is_not_this_runs_business(tmp_path):
    lw, log, said, _ = watch(tmp_path, earlier=BULK_DML * 5)
    lw.poll()
    assert said == [] and lw.report()["prefect"]["recent_failures"] == 0


def test_a_half_written_traceback_waits_for_its_last_line(tmp_path):
    lw, log, said, _ = watch(tmp_path)
    head, last = BULK_DML.rstrip("\n").rsplit("\n", 1)
    append(log, head + "\n" + last[:20])
    lw.poll()
    assert said == []
    append(log, last[20:] + "\n")
    lw.poll()
    assert len(said) == 1 and "InvalidRequestError" in said[0]


def test_prefects_sqlite_being_busy_is_said_once_with_what_to_do_and_never_makes_it_degraded(tmp_path):
    lw, log, said, _ = watch(tmp_path)
    append(log, LOCKED * (REPEATED * 4))
    lw.poll()
    assert len(said) == 1
    assert "database is locked" in said[0] and "PostgreSQL" in said[0] and str(log) in said[0]
    assert lw.report()["prefect"]["degraded"] is False
    append(log, BULK_DML)  # a real failure after it is still heard
    lw.poll()
    assert len(said) == 2 and "InvalidRequestError" in said[1]
    assert lw.report()["prefect"]["recent_failures"] == 1
