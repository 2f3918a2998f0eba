"""Run one nameko service in the foreground: ``python -m services.<name>``.

The service module's ``__main__`` monkey-patches eventlet before importing anything else,
then calls :func:`run`. SIGTERM and SIGINT stop the service gracefully (workers finish).
"""

from __future__ import annotations

import logging
import signal
from typing import Any

import eventlet
from nameko.runners import ServiceRunner

from common.config import load_settings
from common.logs import configure_logging, worker_call_ids
from common.startup import freeze_startup_objects

log = logging.getLogger(__name__)


def run(service_cls: Any) -> None:
    settings = load_settings()
    configure_logging(service_cls.name, settings.log_format)
    # every worker's log lines carry its call id (common/logs.py)
    service_cls.log_call_ids = worker_call_ids()
    runner = ServiceRunner(settings.nameko_config())
    runner.add_service(service_cls)

    stopping = eventlet.event.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("received signal %s, stopping %s", signum, service_cls.name)
        if not stopping.ready():
            stopping.send(True)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    runner.start()
    freeze_startup_objects()
    log.info("%s started", service_cls.name)
    runner_done = eventlet.spawn(runner.wait)
    watcher = eventlet.spawn(stopping.wait)
    while not stopping.ready() and not runner_done.dead:
        eventlet.sleep(0.2)
    if stopping.ready():
        with eventlet.Timeout(20, False):
            runner.stop()
            log.info("%s stopped", service_cls.name)
            return
        runner.kill()
    else:
        # the container died (runner.wait re-raises its error): exit non-zero
        watcher.kill()
        runner_done.wait()
