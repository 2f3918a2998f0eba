"""Calling another service from inside a nameko worker, with a timeout.

nameko 2.14's ``RpcProxy`` waits for a reply forever; :func:`call` bounds the wait and turns
the callee's domain errors back into the same :mod:`common.errors` classes, so they keep their
HTTP meaning on the way out (and a callee whose database is away into ``Unavailable``, 503).
The caller's context (its token) travels with the call, so the callee applies the caller's own
scope.
"""

from __future__ import annotations

from typing import Any

import eventlet
from nameko.exceptions import RemoteError

from common import errors

DEFAULT_TIMEOUT = 5.0
_BY_NAME = {cls.__name__: cls for cls in errors.DOMAIN_ERRORS}


def call(method: Any, *args: Any, timeout: float = DEFAULT_TIMEOUT, **kwargs: Any) -> Any:
    """``call(self.enterprise.get_enterprise, eid)``: the result, or a DomainError."""
    reply = method.call_async(*args, **kwargs)
    try:
        with eventlet.Timeout(timeout):
            return reply.result()
    except eventlet.Timeout as exc:
        raise errors.Unavailable(f"{method.service_name} did not answer in time") from exc
    except RemoteError as exc:
        cls = _BY_NAME.get(exc.exc_type)
        if cls is None:
            if f"sqlalchemy.exc.{exc.exc_type}" in errors.DATABASE_UNAVAILABLE:
                raise errors.Unavailable(
                    f"{method.service_name} could not reach its database") from exc
            raise
        raise cls(str(exc.value)) from exc
