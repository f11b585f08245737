"""``python -m sandboxes.btcpay --port P``: store, API key and webhook secret come from the
environment (``BILLING_BTCPAY_STORE_ID``, ``BILLING_BTCPAY_API_KEY``, ``BILLING_BTCPAY_WEBHOOK_SECRET``)
so that no secret appears on a command line."""

import argparse
import os
from decimal import Decimal

from aiohttp import web

from sandboxes.btcpay.app import SandboxConfig, build_app


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m sandboxes.btcpay", description="BTCPay Greenfield sandbox"
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--webhook-url", help="register a webhook to this URL at start-up")
    parser.add_argument("--btc-usd", default="65000.00", help="initial BTC_USD rate")
    parser.add_argument(
        "--retry-scale", type=float, default=0.01, help="factor on BTCPay's redelivery delays"
    )
    args = parser.parse_args()
    config = SandboxConfig(
        port=args.port,
        store_id=os.environ.get("BILLING_BTCPAY_STORE_ID") or "sandbox-store",
        api_key=os.environ.get("BILLING_BTCPAY_API_KEY") or "sandbox-api-key",
        webhook_url=args.webhook_url,
        webhook_secret=os.environ.get("BILLING_BTCPAY_WEBHOOK_SECRET") or None,
        btc_usd=Decimal(args.btc_usd),
        retry_scale=args.retry_scale,
    )
    web.run_app(build_app(config), host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
