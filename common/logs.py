"""One JSON object per log line (or plain text with LOG_FORMAT=text), to stderr."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter


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
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # kombu logs every reconnect attempt at WARNING already; its INFO is noise
    logging.getLogger("kombu").setLevel(logging.WARNING)
    # aiormq logs every failed reconnect at ERROR; the gateway's client reports outages itself
    logging.getLogger("aiormq.connection").setLevel(logging.CRITICAL)
