import eventlet

eventlet.monkey_patch()

from common.runner import run  # noqa: E402
from services.supplydemand.service import SupplyDemandService  # noqa: E402

run(SupplyDemandService)
