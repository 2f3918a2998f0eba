"""``python -m devtools.openapi``: the gateway's OpenAPI document on standard output, built from
the route table without a running gateway. ``make web-types`` turns it into the console's typed
API (``web/src/api/schema.d.ts``, by openapi-typescript); a test keeps that file current."""

from __future__ import annotations

import json
import sys

from gateway.openapi import build_spec
from gateway.routes import API_ENDPOINTS


def document() -> str:
    return json.dumps(build_spec(API_ENDPOINTS), ensure_ascii=False, indent=1, sort_keys=True)


def main() -> None:
    sys.stdout.write(document() + "\n")


if __name__ == "__main__":
    main()
