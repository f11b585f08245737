"""``python -m sandboxes.nwc --port P [--webhook-url URL]``: the connection URI (wallet pubkey, relay,
app secret) comes from ``BILLING_NWC_URI`` in the environment; the relay listens on the URI's port.
With ``--webhook-url``, settled invoices are also posted there as Alby's hosted webhooks, signed with
the endpoint secret ``BILLING_ALBY_WEBHOOK_SECRET`` (``whsec_…``)."""

import argparse
import os

from aiohttp import web

from sandboxes.nwc.app import build_app
from sandboxes.nwc.hosted_webhooks import HostedWebhooks


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m sandboxes.nwc", description="NWC wallet sandbox (Alby Hub)"
    )
    parser.add_argument("--port", type=int, required=True, help="control API port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--webhook-url", help="post hosted webhooks for settled invoices to this URL")
    parser.add_argument("--retry-scale", type=float, default=1.0, help="scale Svix's retry delays")
    args = parser.parse_args()
    uri = os.environ.get("BILLING_NWC_URI")
    if not uri:
        parser.error("BILLING_NWC_URI must hold the connection URI (see sandboxes/nwc/keys.py)")
    hosted = None
    if args.webhook_url:
        secret = os.environ.get("BILLING_ALBY_WEBHOOK_SECRET")
        if not secret:
            parser.error("--webhook-url needs BILLING_ALBY_WEBHOOK_SECRET (the endpoint's whsec_ secret)")
        hosted = HostedWebhooks(args.webhook_url, secret, retry_scale=args.retry_scale)
    web.run_app(build_app(uri, hosted), host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
