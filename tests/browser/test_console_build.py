"""The web console's build checks (they need its npm dependencies, not the platform): its
generated API types are current, its type check (vue-tsc) and its unit tests (vitest)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from devtools.openapi import document

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
BIN = WEB / "node_modules" / ".bin"


def need_npm_dependencies() -> None:
    if not (BIN / "vite").exists():
        pytest.fail("the console's npm dependencies are missing: run `make web` "
                    "(make test installs them: devtools/ensure_tools.sh)")


def test_the_generated_api_types_are_current():
    """web/src/api/schema.d.ts is openapi-typescript's output for the gateway's OpenAPI
    document as it is now: after an API change, `make web-types` and commit the result."""
    need_npm_dependencies()
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "openapi.json"
        spec.write_text(document() + "\n")
        out = Path(tmp) / "schema.d.ts"
        subprocess.run([str(BIN / "openapi-typescript"), str(spec), "-o", str(out)], cwd=WEB,
                       check=True, capture_output=True, timeout=300)
        current = (WEB / "src" / "api" / "schema.d.ts").read_text()
        assert out.read_text() == current, (
            "web/src/api/schema.d.ts is stale: run `make web-types` and commit it")


def test_the_console_type_checks():
    need_npm_dependencies()
    result = subprocess.run([str(BIN / "vue-tsc"), "--noEmit", "-p", "tsconfig.json"], cwd=WEB,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_consoles_unit_tests_pass():
    need_npm_dependencies()
    node = shutil.which("node")
    assert node, "node is missing: run `make web`"
    result = subprocess.run([str(BIN / "vitest"), "run", "--reporter=dot"], cwd=WEB,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr


