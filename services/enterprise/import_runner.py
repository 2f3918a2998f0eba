"""The registry's import runner: a managed thread of the enterprise service that claims import
jobs and runs them (:mod:`services.enterprise.import_jobs`), off the RPC workers.

It takes no worker of the service (nameko's ``max_workers`` stay for calls), runs one job at a
time per process, and yields to the process's other green threads between batches; the file
is read in a native thread (``eventlet.tpool``: openpyxl's parse of a workbook's shared strings
is one step that cannot yield), so the service answers while it is read. It looks
for work every :data:`POLL_SECONDS`, and at once when ``create_import_job`` wakes it. When the
service stops, the job in hand is left ``running``: its heartbeat stops, and the next runner
(this service restarted, or another replica) resumes it after ``import_jobs.STALE_AFTER``.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

import eventlet
from eventlet import tpool
from nameko.extensions import DependencyProvider

from common.db import Database, WorkerDatabase
from services.enterprise import import_jobs

log = logging.getLogger(__name__)

#: how often an idle runner looks for a job (a stale one is found within this)
POLL_SECONDS = 5.0


class ImportRunner(DependencyProvider):
    """``self.import_runner`` in an entrypoint: :meth:`wake` after creating a job."""

    def __init__(self) -> None:
        self.runner = ""
        self._wake = threading.Event()
        self._stopping = False
        self._database: Database | None = None

    def setup(self) -> None:
        self.runner = f"{self.container.service_name}-{uuid.uuid4().hex[:12]}"
        self._database = next(d for d in self.container.dependencies if isinstance(d, Database))

    def start(self) -> None:
        self.container.spawn_managed_thread(self._loop, identifier="import-runner")

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    def kill(self) -> None:
        self.stop()

    def get_dependency(self, worker_ctx: Any) -> ImportRunner:
        return self

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stopping:
            try:
                worked = self.run_once()
            except Exception:  # the database away: try again at the next poll
                log.warning("import runner: no job claimed", exc_info=True)
                worked = False
            if worked:
                continue
            self._wake.wait(POLL_SECONDS)
            self._wake.clear()

    def run_once(self) -> bool:
        """Claim one job and run it to its end; False when there was none."""
        assert self._database is not None
        db = WorkerDatabase(self._database)
        try:
            with db.transaction() as session:
                job_id = import_jobs.claim(session, self.runner)
            if job_id is None:
                return False
            log.info("import %s claimed by %s", job_id, self.runner)
            import_jobs.run(db.transaction, db.statement, job_id, self.runner,
                            pause=lambda: eventlet.sleep(0), offload=tpool.execute)
            return True
        finally:
            db.close()
