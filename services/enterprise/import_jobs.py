"""Import jobs (导入任务): an enterprise file imported in batches, off the RPC worker.

A plain module (a SQLAlchemy session, no broker); :mod:`services.enterprise.import_runner`
runs it in a thread of the service, :mod:`services.enterprise.api.imports` creates and shows
jobs. The rules of a row stay in :mod:`services.enterprise.importer` (validation, the upsert)
and :mod:`services.enterprise.spreadsheet` (reading): a job applies them batch by batch.

1. :func:`create` stores the uploaded file as a ``pending`` job of its account (at most
   :data:`MAX_OPEN` of an account's jobs in the making at once);
2. a runner :func:`claim`\\ s it (``FOR UPDATE SKIP LOCKED``: one runner per job, whatever
   the replicas), then :func:`run` reads the file, validates every row (a credit code twice
   in the file is an error on every later row, so the whole file is validated first, as the
   synchronous import does) and imports :data:`BATCH_ROWS` rows of the file at a time. Each
   batch is one transaction holding its writes, its row errors and the job's counts and
   position (``rows_done``): a batch is written entirely or not at all, and the progress never
   runs ahead of or behind what is written. Between two batches the runner yields, so the
   service's other calls run;
3. a runner that dies (the service killed mid-import) leaves its job ``running`` with a
   heartbeat that stops: after :data:`STALE_AFTER` another runner (or the restarted service)
   claims it again and resumes at ``rows_done``, reading and validating the file again (the
   same file gives the same rows). A job interrupted :data:`MAX_ATTEMPTS` times is marked
   ``failed`` (``import.interrupted``), never left running. A file that cannot be read (a
   header without the required columns, not an XLSX...) fails the job with that reason.

A dry run does each batch inside a savepoint rolled back (``importer.upsert_enterprises``):
the counts and errors are those of a real run, nothing is written but the job's own rows.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common.errors import Conflict, DomainError, NotFound, field_error
from common.i18n import EN, translate
from common.validation import is_uuid
from services.enterprise import importer, spreadsheet
from services.enterprise.models import ImportJob, ImportJobError

log = logging.getLogger(__name__)

#: rows of the file imported in one transaction
BATCH_ROWS = 500
#: a running job whose heartbeat is older than this lost its runner: it is claimed again
STALE_AFTER = timedelta(seconds=60)
#: how often a runner tells that it is alive while it reads and imports
HEARTBEAT_SECONDS = 10.0
#: runs a job may take (each crash of its runner costs one) before it is marked failed
MAX_ATTEMPTS = 3
#: jobs (and their errors) are kept this long
KEPT_FOR = timedelta(hours=24)
#: jobs one account may have in the making at once
MAX_OPEN = 2
#: row errors shown with a job (``errors_total`` counts them all)
ERRORS_SHOWN = 1000

Transaction = Callable[[], AbstractContextManager[Session]]
#: a connection of its own in autocommit (``WorkerDatabase.statement``), for the heartbeat
Statement = Callable[[], AbstractContextManager[Connection]]


def _now() -> datetime:
    return datetime.now(UTC)


def create(session: Session, owner: str, content: bytes, fmt: str, dry_run: bool,
           call_id: str | None = None, now: datetime | None = None) -> ImportJob:
    """A pending job of ``owner`` importing ``content`` (already checked for size); Conflict
    ``import.too_many`` while :data:`MAX_OPEN` of the owner's jobs are being made."""
    now = now or _now()
    open_now = session.execute(select(func.count()).select_from(ImportJob).where(
        ImportJob.owner == owner, ImportJob.status.in_(("pending", "running")),
    )).scalar_one()
    if open_now >= MAX_OPEN:
        raise Conflict("{count} of your imports are still running: wait for one to finish",
                       code="import.too_many", params={"count": open_now})
    session.execute(delete(ImportJob).where(ImportJob.created_at < now - KEPT_FOR,
                                            ImportJob.status.in_(("done", "failed"))))
    job = ImportJob(id=str(uuid.uuid4()), owner=owner, dry_run=dry_run, format=fmt,
                    content=content, call_id=call_id, status="pending", rows_total=None,
                    rows_done=0, created=0, updated=0, unchanged=0, rejected=0, attempts=0,
                    created_at=now, heartbeat_at=now)
    session.add(job)
    session.flush()
    return job


def owned(session: Session, job_id: Any, owner: str) -> ImportJob:
    """The job if ``owner`` started it; NotFound otherwise (so ids cannot be probed)."""
    job = session.get(ImportJob, job_id) if is_uuid(job_id) else None
    if job is None or job.owner != owner:
        raise NotFound("no such import", code="import.not_found")
    return job


def dump(session: Session, job: ImportJob, language: str = EN) -> dict[str, Any]:
    """The job as ``ImportJobSchema`` shows it: state, progress, counts so far and the first
    :data:`ERRORS_SHOWN` row errors in the reader's ``language``."""
    errors = session.execute(
        select(ImportJobError).where(ImportJobError.job_id == job.id)
        .order_by(ImportJobError.row, ImportJobError.id).limit(ERRORS_SHOWN)).scalars().all()
    errors_total = session.execute(select(func.count()).select_from(ImportJobError).where(
        ImportJobError.job_id == job.id)).scalar_one()
    total = job.rows_total
    progress = 100 if job.status == "done" else (
        min(99, job.rows_done * 100 // total) if total else 0)
    failure = job.failure or None
    return {
        "id": job.id, "status": job.status, "dry_run": job.dry_run, "format": job.format,
        "progress": progress, "rows_total": total, "rows_done": job.rows_done,
        "created": job.created, "updated": job.updated, "unchanged": job.unchanged,
        "rejected": job.rejected, "errors_total": errors_total,
        "errors": [importer.RowError(e.row, e.field, e.code, e.message, e.params or {})
                   .as_dict(language) for e in errors],
        "error": None if failure is None else {
            "code": failure["code"],
            "reason": translate(failure["message"], language, failure.get("params") or {})},
        "attempts": job.attempts, "created_at": job.created_at,
        "finished_at": job.finished_at,
    }


# --------------------------------------------------------------------------- the runner's side


def claim(session: Session, runner: str, now: datetime | None = None) -> str | None:
    """Take the oldest pending job, or a running one whose runner stopped telling it is alive;
    its id, or None. The caller commits."""
    now = now or _now()
    job = session.execute(
        select(ImportJob).where(or_(
            ImportJob.status == "pending",
            (ImportJob.status == "running") & (ImportJob.heartbeat_at < now - STALE_AFTER),
        )).order_by(ImportJob.created_at).limit(1).with_for_update(skip_locked=True)
    ).scalar_one_or_none()
    if job is None:
        return None
    if job.status == "running":
        log.warning("import %s lost its runner %s after %s rows: resumed by %s", job.id,
                    job.runner, job.rows_done, runner)
    job.status, job.runner, job.heartbeat_at = "running", runner, now
    job.attempts += 1
    return job.id


class Stopped(Exception):
    """The job is no longer this runner's (another took it over, or it was removed)."""


def _held(session: Session, job_id: str, runner: str) -> ImportJob:
    job = session.execute(select(ImportJob).where(
        ImportJob.id == job_id, ImportJob.runner == runner, ImportJob.status == "running",
    ).with_for_update()).scalar_one_or_none()
    if job is None:
        raise Stopped(job_id)
    return job


def _fail(transaction: Transaction, job_id: str, runner: str, reason: dict[str, Any]) -> None:
    with transaction() as session:
        session.execute(update(ImportJob).where(
            ImportJob.id == job_id, ImportJob.runner == runner,
        ).values(status="failed", failure=reason, content=None, finished_at=_now(),
                 heartbeat_at=_now()))


class _Heartbeat:
    """Tells every :data:`HEARTBEAT_SECONDS` that the runner still holds its job (a thread:
    green under eventlet), so that a long read of the file is not taken for a crash."""

    def __init__(self, statement: Statement, job_id: str, runner: str) -> None:
        self.statement, self.job_id, self.runner = statement, job_id, runner
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True,
                                       name=f"import-heartbeat-{job_id}")

    def _beat(self) -> None:
        while not self.done.wait(HEARTBEAT_SECONDS):
            try:
                with self.statement() as conn:
                    conn.execute(update(ImportJob).where(
                        ImportJob.id == self.job_id, ImportJob.runner == self.runner,
                        ImportJob.status == "running").values(heartbeat_at=_now()))
            except Exception:  # the next beat tries again; a dead database fails the batch
                log.warning("import %s: heartbeat not recorded", self.job_id, exc_info=True)

    def __enter__(self) -> _Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()


def _batches(count: int, start: int) -> Iterator[tuple[int, int]]:
    for first in range(start, count, BATCH_ROWS):
        yield first, min(first + BATCH_ROWS, count)


def _inline(work: Callable[[], spreadsheet.Table]) -> spreadsheet.Table:
    return work()


def run(transaction: Transaction, statement: Statement, job_id: str, runner: str,
        pause: Callable[[], None] = lambda: time.sleep(0),
        offload: Callable[[Callable[[], spreadsheet.Table]], spreadsheet.Table] = _inline,
        ) -> str:
    """Import the job ``runner`` claimed, batch by batch from ``rows_done``; the job's final
    status (``done`` or ``failed``), or ``stopped`` when another runner took it over.

    ``transaction()`` opens one transaction (commit on success); ``statement()`` a connection
    of its own for the heartbeat (the session is the batches'); ``pause()`` yields to the
    process's other work between batches; ``offload(read)`` runs the reading of the file
    (the runner: in a native thread, ``eventlet.tpool``, as openpyxl parses a workbook's
    shared strings in one step that cannot yield: 8.5 s for 50,000 rows on a loaded machine).
    """
    with transaction() as session:
        job = _held(session, job_id, runner)
        if job.attempts > MAX_ATTEMPTS:
            attempts = job.attempts - 1
            job.status, job.content, job.finished_at = "failed", None, _now()
            job.failure = field_error("import.interrupted", "the import was interrupted {count} "
                                      "times; import the file again", count=attempts)
            log.error("import %s failed: interrupted %s times", job_id, attempts)
            return "failed"
        content, fmt, dry_run = bytes(job.content or b""), job.format, job.dry_run
        owner, call_id, start = job.owner, job.call_id, job.rows_done
    try:
        with _Heartbeat(statement, job_id, runner):
            return _import(transaction, job_id, runner, content, fmt, dry_run, owner, call_id,
                           start, pause, offload)
    except Stopped:
        log.warning("import %s is no longer held by %s: stopped", job_id, runner)
        return "stopped"
    except DomainError as exc:  # the file cannot be read: its reason is the job's
        _fail(transaction, job_id, runner, {"code": exc.code, "message": exc.detail,
                                            "params": exc.params or {}})
        log.info("import %s failed: %s", job_id, exc.code)
        return "failed"
    except IntegrityError:
        log.warning("import %s collided with a concurrent change", job_id, exc_info=True)
        _fail(transaction, job_id, runner, field_error(
            "import.concurrent_change",
            "the enterprises changed while importing; import the file again"))
        return "failed"
    except Exception as exc:
        log.exception("import %s failed", job_id)
        _fail(transaction, job_id, runner, field_error(
            "import.failed", "the import stopped: {reason}", reason=type(exc).__name__))
        return "failed"


def _import(transaction: Transaction, job_id: str, runner: str, content: bytes, fmt: str,
            dry_run: bool, owner: str, call_id: str | None, start: int,
            pause: Callable[[], None],
            offload: Callable[[Callable[[], spreadsheet.Table]], spreadsheet.Table]) -> str:
    table = offload(lambda: spreadsheet.read_table(content, fmt))
    # the file's rows live until the job ends, some 2,000,000 objects for 50,000 rows: every
    # full collection of the garbage collector walked them all, holding the service's other
    # calls for up to 1 s; frozen, collections skip them (they are freed by their reference
    # counts once the job lets go of them, as :func:`common.startup.freeze_startup_objects`)
    gc.freeze()
    pause()
    valid, invalid, mapping = importer.validate_rows(table)
    gc.freeze()  # and the validated rows
    data_of = dict(valid)
    errors_of: dict[int, list[importer.RowError]] = {}
    for error in invalid:
        errors_of.setdefault(error.row, []).append(error)
    total = len(table.rows)
    with transaction() as session:
        job = _held(session, job_id, runner)
        job.rows_total, job.heartbeat_at = total, _now()
        grids = importer.load_grids(session)
    assign = importer.GridAssigner(grids)
    for first, last in _batches(total, start):
        pause()
        numbers = [number for number, _ in table.rows[first:last]]
        rows = [(n, data_of[n]) for n in numbers if n in data_of]
        with transaction() as session:
            job = _held(session, job_id, runner)
            result = importer.upsert_enterprises(
                session, [data for _, data in rows], owner, dry_run,
                row_numbers=[n for n, _ in rows], assign_grid=assign, call_id=call_id,
                grids=grids)
            found = importer.labelled(
                [*(e for n in numbers for e in errors_of.get(n, ())), *result.errors],
                mapping, table.header)
            if found:
                session.execute(insert(ImportJobError), [
                    {"job_id": job_id, "row": e.row, "field": e.field, "code": e.code,
                     "message": e.message, "params": e.params} for e in found])
            job.rows_done = last
            job.created += result.created
            job.updated += result.updated
            job.unchanged += result.unchanged
            job.rejected += len({e.row for e in found})
            job.heartbeat_at = _now()
    with transaction() as session:
        job = _held(session, job_id, runner)
        job.status, job.content, job.finished_at = "done", None, _now()
        job.heartbeat_at = job.finished_at
        log.info("import %s by %s: %s rows, %s created, %s updated, %s unchanged, %s rejected%s",
                 job_id, owner, total, job.created, job.updated, job.unchanged, job.rejected,
                 " (dry run)" if dry_run else "")
    return "done"
