import eventlet

eventlet.monkey_patch()

from common.runner import run  # noqa: E402
from services.notification.service import NotificationService  # noqa: E402

run(NotificationService)
