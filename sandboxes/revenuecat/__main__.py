"""``python -m sandboxes.revenuecat --port P --webhook-url URL``: run the RevenueCat sandbox.

Secrets come from environment variables, never argv: the webhook Authorization value RevenueCat
would send (``--webhook-authorization-env``) and the secret API keys it accepts (``--api-key-env``,
``--api-v2-key-env``; the v2 key falls back to the v1 key).
"""

import argparse
import os

from aiohttp import web

from sandboxes.revenuecat.app import build_app
from sandboxes.revenuecat.config import SandboxConfig


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandboxes.revenuecat", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--webhook-url", required=True, help="where RevenueCat POSTs webhooks")
    parser.add_argument("--webhook-authorization-env", default="BILLING_REVENUECAT_WEBHOOK_AUTHORIZATION")
    parser.add_argument("--api-key-env", default="BILLING_REVENUECAT_API_KEY")
    parser.add_argument("--api-v2-key-env", default="BILLING_REVENUECAT_API_V2_KEY")
    parser.add_argument("--project-id", default="proj_sandbox")
    parser.add_argument("--app-id", default="app_sandbox")
    parser.add_argument(
        "--retry-unit-ms",
        type=float,
        default=60_000,
        help="one minute of RevenueCat's 5/10/20/40/80-minute retry schedule, in milliseconds",
    )
    parser.add_argument("--delivery-timeout-s", type=float, default=60.0)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    config = SandboxConfig(
        webhook_url=args.webhook_url,
        webhook_authorization=os.environ.get(args.webhook_authorization_env, ""),
        api_key=os.environ.get(args.api_key_env, ""),
        api_v2_key=os.environ.get(args.api_v2_key_env, ""),
        project_id=args.project_id,
        app_id=args.app_id,
        retry_unit_ms=args.retry_unit_ms,
        delivery_timeout_s=args.delivery_timeout_s,
    )
    web.run_app(build_app(config), host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
