"""One JSON object per log line (or plain text with LOG_FORMAT=text), to stderr."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter


class ExpectedErrors(logging.Filter):
    """nameko logs a caller's error (``expected_exceptions``) at WARNING with a traceback;
    it is a normal answer (a 4xx), so it becomes one INFO line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "nameko.containers" and str(record.msg).startswith("(expected)"):
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.exc_info = None
            record.exc_text = None
        return True


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
            logging.Formatter(f"%(asctime)s {process} %(levelname)s %(name)s: %(message)s")
        )
    handler.addFilter(ExpectedErrors())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # kombu logs every reconnect attempt at WARNING already; its INFO is noise
    logging.getLogger("kombu").setLevel(logging.WARNING)
    # aiormq logs every failed reconnect at ERROR; the gateway's client reports outages itself
    logging.getLogger("aiormq.connection").setLevel(logging.CRITICAL)
