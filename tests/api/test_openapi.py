"""The API document: valid OpenAPI 3.1, complete, and viewable without any CDN."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from gateway.routes import API_ENDPOINTS


def test_openapi_is_valid_3_1_and_lists_every_endpoint(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"] == "3.1.0"
    validate(spec)
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    assert documented == {(ep.path, ep.method) for ep in API_ENDPOINTS}
    submit = spec["paths"]["/api/v1/demands"]["post"]
    body = submit["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/DemandCreate"}
    created = spec["components"]["schemas"]["DemandCreate"]
    assert created["properties"]["title"]["maxLength"] == 200
    assert "grid_worker" in created["properties"]["channel"]["enum"]
    assert set(submit["responses"]) >= {"201", "200", "401", "403", "409", "422", "503", "504"}
    problem = submit["responses"]["422"]["content"]
    assert list(problem) == ["application/problem+json"]


def test_docs_page_uses_only_local_assets(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assert "swagger-ui" in page.text
    assert not re.search(r"(src|href)=\"(https?:)?//", page.text)
    for asset in re.findall(r"(?:src|href)=\"(/[^\"]+)\"", page.text):
        assert client.get(asset).status_code == 200, asset
    init = client.get("/docs/init.js").text
    assert "/openapi.json" in init
