"""Calling another service from inside a nameko worker, with a timeout.

nameko 2.14's ``RpcProxy`` waits for a reply forever; :func:`call` bounds the wait and turns
the callee's domain errors back into the same :mod:`common.errors` classes (nameko's own
registry rebuilds them by ``exc_path`` with all their arguments: code, field errors and
parameters), so they keep their HTTP meaning on the way out (and a callee whose database is
away into ``Unavailable``, 503).
The caller's context (its token) travels with the call, so the callee applies the caller's own
scope.
"""

from __future__ import annotations

from typing import Any

import eventlet
from nameko.exceptions import RemoteError, deserialize_to_instance

from common import errors
from common.i18n import label

DEFAULT_TIMEOUT = 5.0
for _cls in errors.DOMAIN_ERRORS:
    deserialize_to_instance(_cls)


def call(method: Any, *args: Any, timeout: float = DEFAULT_TIMEOUT, **kwargs: Any) -> Any:
    """``call(self.enterprise.get_enterprise, eid)``: the result, or a DomainError."""
    reply = method.call_async(*args, **kwargs)
    try:
        with eventlet.Timeout(timeout):
            return reply.result()
    except eventlet.Timeout as exc:
        raise errors.Unavailable("{service} did not answer in time", code="service.timeout",
                                 params={"service": label("service", method.service_name)}) from exc
    except RemoteError as exc:
        if f"sqlalchemy.exc.{exc.exc_type}" in errors.DATABASE_UNAVAILABLE:
            raise errors.Unavailable(
                "{service} could not reach its database", code="service.database_unavailable",
                params={"service": label("service", method.service_name)}) from exc
        raise
