import eventlet

eventlet.monkey_patch()

from common.runner import run  # noqa: E402
from services.ticketing.service import TicketingService  # noqa: E402

run(TicketingService)
