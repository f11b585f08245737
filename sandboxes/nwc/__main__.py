"""``python -m sandboxes.nwc --port P``: the connection URI (wallet pubkey, relay, app secret) comes
from ``BILLING_NWC_URI`` in the environment; the relay listens on the URI's port."""

import argparse
import os

from aiohttp import web

from sandboxes.nwc.app import build_app


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m sandboxes.nwc", description="NWC wallet sandbox (Alby Hub)"
    )
    parser.add_argument("--port", type=int, required=True, help="control API port")
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    uri = os.environ.get("BILLING_NWC_URI")
    if not uri:
        parser.error("BILLING_NWC_URI must hold the connection URI (see sandboxes/nwc/keys.py)")
    web.run_app(build_app(uri), host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
