import os

# one BLAS thread per service process, set before numpy loads: the workers are green threads
# of one OS thread, and OpenBLAS's own threads only fight them for the cores (the zone
# figures' release check, a small pseudo-inverse: 130 ms with them on a loaded machine, 4 ms
# without)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import eventlet  # noqa: E402

eventlet.monkey_patch()

from common.runner import run  # noqa: E402
from services.enterprise.service import EnterpriseService  # noqa: E402

run(EnterpriseService)
