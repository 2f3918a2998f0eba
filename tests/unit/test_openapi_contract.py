"""The OpenAPI document as a contract clients build on (issue 16, part 5): an example for
every request body and JSON answer that its own schema accepts, Location on every 201 and
202, Retry-After on 429 and 503, tags with descriptions, servers, licence and contact."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import referencing.jsonschema
from referencing import Registry, Resource

from gateway.openapi import build_spec
from gateway.routes import API_ENDPOINTS


@pytest.fixture(scope="module")
def document() -> dict:
    return build_spec(API_ENDPOINTS)


def operations(document: dict):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def test_every_body_and_json_answer_has_an_example_its_schema_accepts(document):
    registry = Registry().with_resource("urn:doc", Resource.from_contents(
        document, default_specification=referencing.jsonschema.DRAFT202012))
    refused, missing = [], []
    for name, operation in operations(document):
        media = []
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body is not None:
            media.append(("request", body))
        for status, answer in operation["responses"].items():
            content = answer.get("content", {}).get("application/json")
            if content is not None and status.startswith("2"):
                media.append((status, content))
        for what, content in media:
            if "example" not in content:
                missing.append(f"{name} {what}")
                continue
            schema = content["schema"]
            if "$ref" in schema:
                schema = {"$ref": "urn:doc" + schema["$ref"]}
            errors = list(jsonschema.Draft202012Validator(schema, registry=registry)
                          .iter_errors(content["example"]))
            if errors:
                refused.append(f"{name} {what}: {errors[0].json_path} {errors[0].message}")
    assert missing == []
    assert refused == []


def test_location_on_201_and_202_retry_after_on_429_and_503(document):
    for name, operation in operations(document):
        for status, answer in operation["responses"].items():
            headers = answer.get("headers", {})
            if status in ("201", "202"):
                assert "Location" in headers, name
            if status in ("429", "503"):
                assert "Retry-After" in headers, name


def test_tags_servers_licence_and_contact(document):
    used = {tag for _, op in operations(document) for tag in op.get("tags", [])}
    described = {tag["name"]: tag.get("description") for tag in document["tags"]}
    assert used <= set(described)
    assert all(described[tag] and described[tag] != tag for tag in used)
    assert document["servers"] and document["servers"][0]["url"]
    assert document["info"]["license"]["name"] and document["info"]["contact"]["name"]


def test_licence_is_the_repositorys(document):
    """The document names the licence the repository ships (LICENSE, pyproject's SPDX)."""
    root = Path(__file__).resolve().parents[2]
    assert (root / "LICENSE").read_text().lstrip().startswith("Apache License")
    assert document["info"]["license"]["identifier"] == "Apache-2.0"
    assert 'license = "Apache-2.0"' in (root / "pyproject.toml").read_text()
