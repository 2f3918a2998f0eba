"""Benchmarks: ``python -m bench.<name>``, all of them with ``make bench``."""

import warnings

# nameko imports eventlet, which warns on import (as devtools/__init__.py): not ours to act on
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
