"""Write the Grafana dashboards of this directory from their modules (grafana-foundation-sdk,
one module per dashboard): ``python deploy/grafana/build.py``. The JSON files are committed
for Grafana's dashboard sidecar (kustomization.yaml); tests/deploy/test_monitoring.py fails when one
differs from what its module builds, and runs every query against a real Prometheus."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import service_health  # noqa: E402
import sla_overview  # noqa: E402
from panels import to_json  # noqa: E402

DASHBOARDS = (sla_overview, service_health)


def render() -> dict[str, str]:
    """File name → JSON text of every dashboard."""
    return {module.FILE: to_json(module.dashboard_builder()) for module in DASHBOARDS}


def main() -> None:
    for name, text in render().items():
        (HERE / name).write_text(text, encoding="utf-8")
        print(f"wrote deploy/grafana/{name}")


if __name__ == "__main__":
    main()
