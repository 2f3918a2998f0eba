"""Run the gateway: ``python -m gateway`` (GATEWAY_HOST, GATEWAY_PORT)."""

import uvicorn

from common.config import load_settings
from common.logs import configure_logging
from gateway.app import create_app


def main() -> None:
    settings = load_settings()
    configure_logging("gateway", settings.log_format)
    uvicorn.run(
        create_app(settings), host=settings.gateway_host, port=settings.gateway_port,
        log_config=None, access_log=False, lifespan="on",
        # the client address (rate limits, logs) comes from X-Forwarded-For of trusted proxies
        proxy_headers=True, forwarded_allow_ips=settings.forwarded_allow_ips,
    )


if __name__ == "__main__":
    main()
