import eventlet

eventlet.monkey_patch()

from common.runner import run  # noqa: E402
from services.enterprise.service import EnterpriseService  # noqa: E402

run(EnterpriseService)
