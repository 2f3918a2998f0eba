"""Benchmarks: ``python -m bench.<name>``, all of them with ``make bench``."""

import os
import warnings

# nameko imports eventlet, which warns on import (as devtools/__init__.py): not ours to act on
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

# the zone benchmark runs the registry's release check in process: one BLAS thread, as the
# service itself runs it (services/enterprise/__main__.py)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
