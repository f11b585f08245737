"""``python -m sandboxes.vault --port P``: a Vault stand-in (KV v2 at ``secret``, AppRole).

The root token comes from ``VAULT_SANDBOX_ROOT_TOKEN``.
"""

import argparse
import os

from aiohttp import web

from sandboxes.vault.app import build_app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m sandboxes.vault", description="Vault sandbox")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--kv-mount", action="append", default=None, help="KV v2 mount (repeatable)")
    args = parser.parse_args()
    root_token = os.environ.get("VAULT_SANDBOX_ROOT_TOKEN")
    if not root_token:
        parser.error("VAULT_SANDBOX_ROOT_TOKEN must hold the root token")
    web.run_app(
        build_app(root_token, args.kv_mount or ["secret"]), host=args.host, port=args.port, print=None
    )


if __name__ == "__main__":
    main()
