"""The HTTP contract through the gateway (issue 16, part 5): answers over 1 KB gzip-compressed
for clients that accept it, small ones and files that are archives already (XLSX) as they
are; Location on every 201, where the created thing can be read."""

from __future__ import annotations

import gzip
import uuid

import httpx
import pytest
from helpers import bearer, demand_body, enterprise_body

from common.auth import Role

pytestmark = pytest.mark.timeout(120)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def raw(client: httpx.Client, path: str, encoding: str, **headers: str) -> httpx.Response:
    """The answer as it travelled (not decompressed by the client)."""
    request = client.build_request("GET", path, headers={"Accept-Encoding": encoding,
                                                         **headers})
    response = client.send(request, stream=True)
    response.read_bytes = b"".join(response.iter_raw())  # type: ignore[attr-defined]
    response.close()
    return response


def test_large_answers_are_gzip_compressed_when_accepted(client, token):
    document = raw(client, "/openapi.json", "gzip")
    assert document.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in document.headers.get("vary", "").lower()
    body = gzip.decompress(document.read_bytes)
    assert body.startswith(b"{") and len(document.read_bytes) * 4 < len(body)
    plain = raw(client, "/openapi.json", "identity")
    assert "content-encoding" not in plain.headers
    assert plain.read_bytes == body
    # an API answer over 1 KB too, with the token
    admin = token(Role.ADMIN)
    dictionaries = raw(client, "/api/v1/dictionaries", "gzip", **bearer(admin))
    assert dictionaries.headers["content-encoding"] == "gzip"
    # httpx decompresses what it asked compressed: a client sees the same JSON
    assert client.get("/api/v1/dictionaries", headers=bearer(admin)).json()["dictionaries"]


def test_small_answers_and_xlsx_files_are_sent_as_they_are(client, token):
    assert "content-encoding" not in raw(client, "/healthz", "gzip").headers
    coordinator = token(Role.COORDINATOR)
    export = raw(client, "/api/v1/ledger/export.xlsx?view=problems&number=SQ19990101",
                 "gzip", **bearer(coordinator))
    assert export.status_code == 200
    assert export.headers["content-type"] == XLSX
    assert "content-encoding" not in export.headers
    assert export.read_bytes[:2] == b"PK"  # a zip archive: compressing it again gains nothing


def test_location_on_201_names_what_was_created(client, token):
    admin = token(Role.ADMIN)
    created = client.post("/api/v1/enterprises", headers=bearer(admin),
                          json=enterprise_body(incubator_id="INC01"))
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"/api/v1/enterprises/{created.json()['id']}"
    assert client.get(created.headers["location"], headers=bearer(admin)).status_code == 200
    code = f"c{uuid.uuid4().hex[:8]}"
    category = client.post("/api/v1/categories", headers=bearer(admin), json={
        "code": code, "name": f"测试类别{code}", "department_id": "finance"})
    assert category.status_code == 201, category.text
    assert category.headers["location"] == f"/api/v1/categories/{code}"
    enterprise = token(Role.ENTERPRISE, enterprise_id=created.json()["id"])
    demand = client.post("/api/v1/demands", headers=bearer(enterprise), json=demand_body())
    assert demand.status_code == 201, demand.text
    location = demand.headers["location"]
    assert location == f"/api/v1/demands/{demand.json()['id']}"
    assert client.get(location, headers=bearer(enterprise)).status_code == 200
