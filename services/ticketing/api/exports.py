"""RPC entrypoints of the ledger's XLSX (台账导出): at once (``export_ledger``), or as a job
whose progress a console shows (``create_ledger_export``, ``run_ledger_export``,
``get_export``, ``export_chunk``).

The workbook (:mod:`services.ticketing.ledger_export`) is written page by page, as its writer
asks for rows: the list's pages, each named by the registry (as the service:
:mod:`services.ticketing.api.lookup`), then the steps of each page's demands, named the same
way. A job records after every page, in a transaction of its own, how many of the list's rows
are written to its sheet and how many have their steps written too, so ``get_export`` reads
the progress while the job runs. A job and its file belong to whoever asked for it (404 for
anyone else).
"""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update

from common import remote
from common.entrypoints import rpc
from common.errors import Conflict, DomainError, NotFound
from common.validation import is_uuid, load
from services.ticketing import ledger_export, naming, views
from services.ticketing.api import lookup
from services.ticketing.models import Export
from services.ticketing.schemas import ExportSchema, LedgerExportQuerySchema

log = logging.getLogger(__name__)

#: rows of the list read, named and written at a time
PAGE_ROWS = 1000
#: bytes of the file in one ``export_chunk`` answer
CHUNK_BYTES = 512 * 1024
#: a job not heard of for this long died with its worker
STALLED_AFTER = timedelta(minutes=10)
#: files are kept this long
KEPT_FOR = timedelta(hours=24)
#: the share of an export's time its list sheet takes (the rest: reading, naming and writing
#: the steps): 0.55 of 4.1 s with a whole lifecycle's ledger, 0.55 of 2.0 s with a thin one
LIST_SHARE = 0.2
#: exports one account may have in the making at once: each holds a worker of this service
#: while it is built, so a client starting exports in a loop would starve every other call
MAX_OPEN_EXPORTS = 2


def _categories(service: Any) -> dict[str, str]:
    try:
        return {c["code"]: c["name"] for c in remote.call(service.enterprise.list_categories)}
    except DomainError:
        log.warning("category names not read; the export shows their codes", exc_info=True)
        return {}


def _named(service: Any, items: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """The names the registry gives the people, departments, grids and enterprises of
    these list items or steps."""
    wanted = naming.wanted(items)
    try:
        return lookup.names(service, wanted)
    except DomainError:
        log.warning("names of the registry not read; the export shows ids", exc_info=True)
        return {kind: {} for kind in lookup.NAME_KINDS}


def _dump(export: Export, now: datetime | None = None) -> dict[str, Any]:
    status = export.status
    moment = now or datetime.now(UTC)
    if status in ("pending", "running") and export.updated_at < moment - STALLED_AFTER:
        status = "failed"
    total = export.rows_total
    work = LIST_SHARE * (export.rows_listed or 0) + (1 - LIST_SHARE) * export.rows_done
    progress = 100 if status == "done" else (min(99, int(work * 100 / total)) if total else 0)
    return ExportSchema().dump({
        "id": export.id, "view": export.view, "status": status, "progress": progress,
        "rows_listed": export.rows_listed or 0, "rows_done": export.rows_done,
        "rows_total": total,
        "size": len(export.content) if export.content is not None else None,
        "file": f"/api/v1/exports/{export.id}/file" if status == "done" else None,
        "error": export.error if status == "failed" else None,
        "created_at": export.created_at, "finished_at": export.finished_at,
    })


class ExportsApi:
    """Needs ``db``, ``caller``, ``enterprise`` (an ``RpcProxy``) and ``identity`` (a
    ``CallingIdentity``) from the service class."""

    db: Any
    caller: Any
    enterprise: Any
    identity: Any

    def _build(self, principal: Any, filters: dict[str, Any],
               progress: Callable[[int, int], None] | None = None) -> bytes:
        """The workbook; ``progress(listed, done)`` after each page: the list's rows written
        to its sheet, and the rows whose steps are written too."""
        view = filters.get("view", "problems")
        criteria = {k: v for k, v in filters.items() if k != "view"}
        ids = lookup.enterprise_ids(self, criteria)
        categories = _categories(self)
        #: each page of the list: its demands not on an earlier page, and its rows
        pages: list[tuple[list[str], int]] = []

        def list_pages() -> Iterator[list[dict[str, Any]]]:
            seen: set[str] = set()
            rows, page = 0, 1
            while True:
                with self.db.transaction() as session:
                    items = views.VIEWS[view](
                        session, principal, {**criteria, "page": page, "per_page": PAGE_ROWS,
                                             "count": False}, enterprise_ids=ids,
                        dump=False)["items"]
                fresh = [d for d in ledger_export.demand_ids_of(view, items) if d not in seen]
                seen.update(fresh)
                pages.append((fresh, len(items)))
                naming.decorate(items, _named(self, items))
                yield items
                # the writer asks for more once this page's rows are written
                rows += len(items)
                if progress is not None:
                    progress(rows, 0)
                if len(items) < PAGE_ROWS or rows >= views.MAX_EXPORT_ROWS:
                    return
                page += 1

        def step_pages() -> Iterator[tuple[list[dict[str, Any]], dict[str, dict[str, str]]]]:
            # the writer asks for these once the list is written: ``pages`` is complete
            done, listed = 0, sum(rows for _, rows in pages)
            for fresh, rows in pages:
                with self.db.transaction() as session:
                    steps = ledger_export.steps(session, principal, fresh)
                yield steps, _named(self, steps)
                # a row is done once its steps are written too
                done += rows
                if progress is not None:
                    progress(listed, done)

        return ledger_export.workbook(view, list_pages(), step_pages(), categories)

    @rpc
    def export_ledger(self, query: dict[str, Any]) -> str:
        """One of the three lists (``view``) and every step of its demands, as a base64 XLSX
        workbook (at most ``MAX_EXPORT_ROWS`` rows)."""
        principal = self.caller.principal
        filters = load(LedgerExportQuerySchema(), query)
        views.ledger_reader(principal)
        return base64.b64encode(self._build(principal, filters)).decode("ascii")

    # ------------------------------------------------------------------ as a job

    @rpc
    def create_ledger_export(self, query: dict[str, Any]) -> dict[str, Any]:
        """A job exporting one of the lists (``LedgerExportQuerySchema``) for the caller,
        pending, with the number of rows it will hold; ``run_ledger_export`` builds it."""
        principal = self.caller.principal
        filters = load(LedgerExportQuerySchema(), query)
        views.ledger_reader(principal)
        view = filters.get("view", "problems")
        criteria = {k: v for k, v in filters.items() if k != "view"}
        ids = lookup.enterprise_ids(self, criteria)
        now = datetime.now(UTC)
        with self.db.transaction() as session:
            open_now = session.execute(select(func.count()).select_from(Export).where(
                Export.owner == principal.user_id, Export.status.in_(("pending", "running")),
                Export.updated_at >= now - STALLED_AFTER)).scalar_one()
            if open_now >= MAX_OPEN_EXPORTS:
                raise Conflict("{count} of your exports are still being made: wait for one to "
                               "finish", code="export.too_many",
                               params={"count": open_now})
            counted = views.VIEWS[view](session, principal, {
                **criteria, "page": 1, "per_page": 1, "count_cap": views.MAX_EXPORT_ROWS},
                enterprise_ids=ids)
            session.execute(delete(Export).where(Export.created_at < now - KEPT_FOR))
            export = Export(id=str(uuid.uuid4()), owner=principal.user_id, view=view,
                            query=query if isinstance(query, dict) else {}, status="pending",
                            rows_total=min(counted["total"], views.MAX_EXPORT_ROWS),
                            rows_done=0, created_at=now, updated_at=now)
            session.add(export)
            session.flush()
            return _dump(export, now)

    def _owned(self, session: Any, export_id: Any) -> Export:
        principal = self.caller.principal
        export = session.get(Export, export_id) if is_uuid(export_id) else None
        if export is None or export.owner != principal.user_id:
            raise NotFound("no such export", code="export.not_found")
        return export

    def _progress(self, export_id: str) -> Callable[[int, int], None]:
        def report(listed: int, done: int) -> None:
            with self.db.statement() as conn:
                conn.execute(update(Export).where(Export.id == export_id).values(
                    rows_listed=listed, rows_done=done, updated_at=datetime.now(UTC)))
        return report

    @rpc
    def run_ledger_export(self, export_id: str) -> dict[str, Any]:
        """Build a pending job of the caller's (its progress recorded page by page); the job
        when done or failed. A job already started is a Conflict."""
        principal = self.caller.principal
        with self.db.transaction() as session:
            export = self._owned(session, export_id)
            if export.status != "pending":
                raise Conflict("the export has started already", code="export.started")
            export.status, export.updated_at = "running", datetime.now(UTC)
            query = dict(export.query)
        try:
            filters = load(LedgerExportQuerySchema(), query)
            content = self._build(principal, filters, self._progress(export_id))
        except Exception as exc:
            log.exception("ledger export %s failed", export_id)
            with self.db.transaction() as session:
                session.execute(update(Export).where(Export.id == export_id).values(
                    status="failed", error=type(exc).__name__, updated_at=datetime.now(UTC),
                    finished_at=datetime.now(UTC)))
            raise
        now = datetime.now(UTC)
        with self.db.transaction() as session:
            export = self._owned(session, export_id)
            export.status, export.content = "done", content
            export.updated_at = export.finished_at = now
            return _dump(export, now)

    @rpc
    def get_export(self, export_id: str) -> dict[str, Any]:
        """The caller's job: its status and progress (0-100)."""
        with self.db.transaction() as session:
            return _dump(self._owned(session, export_id))

    @rpc
    def export_chunk(self, export_id: str, index: int) -> dict[str, Any]:
        """Piece ``index`` of the caller's finished file: ``{"data": base64, "chunks": n,
        "size": bytes}``; a file not ready is a Conflict."""
        with self.db.transaction() as session:
            export = self._owned(session, export_id)
            if export.status != "done" or export.content is None:
                raise Conflict("the export is not ready", code="export.not_ready")
            content = bytes(export.content)
            start = max(int(index), 0) * CHUNK_BYTES
            piece = content[start:start + CHUNK_BYTES]
            chunks = max(1, -(-len(content) // CHUNK_BYTES))
            return {"data": base64.b64encode(piece).decode("ascii"), "chunks": chunks,
                    "size": len(content), "view": export.view}
