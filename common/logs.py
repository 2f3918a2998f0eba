"""One JSON object per log line (or plain text with LOG_FORMAT=text), to stderr.

Every line written while a call is being served carries its call id, so one demand can be
followed across processes:

- the gateway names each API request ``gateway.<operationId>.<uuid>`` (also answered as the
  ``X-Request-ID`` header) and logs it as ``call_id``;
- a nameko worker logs its own ``call_id`` (``<service>.<method>.<uuid>``) and the whole
  ``call_id_stack`` it was called with: the gateway's id first, then every RPC hop's;
- an event published through a service's outbox carries the publishing worker's call id, so
  the handling worker's ``call_id_stack`` starts with it.

Following a submission: the gateway line with ``call_id`` G; the ticketing lines whose
``call_id_stack`` holds G (their ``call_id`` T); the notification lines whose
``call_id_stack`` holds T.
"""

from __future__ import annotations

import contextvars
import logging
import sys
import time
from collections.abc import Sequence
from typing import Any

from pythonjsonlogger.json import JsonFormatter

#: (call_id, call_id_stack) of the call being served by this task or greenthread. Each asyncio
#: task and each greenlet has its own context, so concurrent calls never see each other's.
_CALL: contextvars.ContextVar[tuple[str, tuple[str, ...]] | None] = contextvars.ContextVar(
    "gridsvc_call", default=None)


def bind_call(call_id: str, stack: Sequence[str] = ()
              ) -> contextvars.Token[tuple[str, tuple[str, ...]] | None]:
    """Mark the lines logged from here on (in this task or greenthread) with ``call_id``."""
    return _CALL.set((call_id, tuple(stack) or (call_id,)))


def unbind_call(token: contextvars.Token[tuple[str, tuple[str, ...]] | None]) -> None:
    _CALL.reset(token)


def current_call_id() -> str | None:
    call = _CALL.get()
    return call[0] if call else None


class CallIds(logging.Filter):
    """Adds ``call_id`` and ``call_id_stack`` to a record logged while a call is bound
    (unless the log call passed its own in ``extra``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        call = _CALL.get()
        if call is not None and not hasattr(record, "call_id"):
            record.call_id, stack = call
            record.call_id_stack = list(stack)
        return True


class ExpectedErrors(logging.Filter):
    """nameko logs a caller's error (``expected_exceptions``) at WARNING with a traceback;
    it is a normal answer (a 4xx), so it becomes one INFO line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "nameko.containers" and str(record.msg).startswith("(expected)"):
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.exc_info = None
            record.exc_text = None
        return True


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        call_id = getattr(record, "call_id", None)
        return f"{line} [call {call_id}]" if call_id else line


def _log_uncaught(kind: type[BaseException], value: BaseException, tb: Any) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, tb)
        return
    logging.getLogger("gridsvc").critical("uncaught exception, exiting",
                                          exc_info=(kind, value, tb))


def configure_logging(process: str, fmt: str = "json", level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"levelname": "level", "asctime": "time"},
                static_fields={"process_name": process},
            )
        )
    else:
        handler.setFormatter(
            _TextFormatter(f"%(asctime)s {process} %(levelname)s %(name)s: %(message)s")
        )
    handler.addFilter(ExpectedErrors())
    handler.addFilter(CallIds())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Python's warnings and a crash's traceback would be plain text on stderr: log them
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    # kombu logs every reconnect attempt at WARNING already; its INFO is noise
    logging.getLogger("kombu").setLevel(logging.WARNING)
    # aiormq logs every failed reconnect at ERROR; the gateway's client reports outages itself
    logging.getLogger("aiormq.connection").setLevel(logging.CRITICAL)


def worker_call_ids() -> Any:
    """A nameko DependencyProvider that binds each worker's call id for its log lines and
    logs one line when the worker is done (entrypoint, outcome, duration).

    ``common.runner.run`` adds it to every service; nameko runs ``worker_setup`` and
    ``worker_result`` in the worker's own greenthread, so the binding covers the whole worker,
    nameko's own lines about it included. Timer ticks are logged only when they fail (they
    run every few seconds). nameko is imported here, not at module level: the gateway has
    no nameko.
    """
    from weakref import WeakKeyDictionary

    from nameko.extensions import DependencyProvider
    from nameko.timer import Timer

    log = logging.getLogger("gridsvc.worker")

    class WorkerCallIds(DependencyProvider):
        def setup(self) -> None:
            self.started: WeakKeyDictionary[Any, float] = WeakKeyDictionary()

        def worker_setup(self, worker_ctx: Any) -> None:
            try:  # an exception here would kill the container
                stack = [str(c) for c in worker_ctx.call_id_stack]
                bind_call(worker_ctx.call_id, stack)
                self.started[worker_ctx] = time.perf_counter()
            except Exception:  # noqa: BLE001
                log.exception("binding the call id failed")
            # no unbinding: the worker's greenthread ends with the worker, and its context too

        def worker_result(self, worker_ctx: Any, result: Any = None,
                          exc_info: Any = None) -> None:
            try:  # an exception here would kill the container
                started = self.started.pop(worker_ctx, None)
                entrypoint = worker_ctx.entrypoint
                if isinstance(entrypoint, Timer) and exc_info is None:
                    return
                outcome = "ok" if exc_info is None else type(exc_info[1]).__name__
                name = f"{self.container.service_name}.{entrypoint.method_name}"
                duration = (round((time.perf_counter() - started) * 1000, 1)
                            if started is not None else None)
                log.info("%s %s", name, outcome,
                         extra={"entrypoint": name, "outcome": outcome,
                                "duration_ms": duration})
            except Exception:  # noqa: BLE001
                log.exception("logging the worker's result failed")

    return WorkerCallIds()
