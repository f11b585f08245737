"""The Vault sandbox as an aiohttp app: KV v2, AppRole, token lookup, ``/v1/sys/health``, control."""

from typing import Any

from aiohttp import web

from sandboxes.vault import auth_routes, kv_routes
from sandboxes.vault.context import STATE
from sandboxes.vault.state import VaultState

control = web.RouteTableDef()


@control.get("/healthz")
async def health(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@control.get("/v1/sys/health")
async def sys_health(_: web.Request) -> web.Response:
    return web.json_response(
        {
            "initialized": True,
            "sealed": False,
            "standby": False,
            "version": "sandbox",
            "cluster_name": "sandbox",
        }
    )


@control.put("/v1/sys/policies/acl/{name}")
@control.post("/v1/sys/policies/acl/{name}")
async def write_policy(request: web.Request) -> web.Response:
    """Sandbox form of an ACL policy: ``{"paths": {"secret/data/billing/*": ["read", …]}}``."""
    state = request.app[STATE]
    token = state.token(request.headers.get("X-Vault-Token"))
    if token is None or "root" not in token.policies:
        return web.json_response({"errors": ["permission denied"]}, status=403)
    body: dict[str, Any] = await request.json()
    state.policies[request.match_info["name"]] = {k: list(v) for k, v in body["paths"].items()}
    return web.Response(status=204)


@control.post("/_sandbox/expire-tokens")
async def expire_tokens(request: web.Request) -> web.Response:
    """Sandbox-only: every issued (non-root) token expires now, as if its TTL had run out."""
    state = request.app[STATE]
    expired = 0
    for token in state.tokens.values():
        if "root" not in token.policies and not token.revoked:
            token.revoked = True
            expired += 1
    return web.json_response({"expired": expired, "logins": state.logins})


def build_app(root_token: str, kv_mounts: list[str]) -> web.Application:
    app = web.Application()
    app[STATE] = VaultState(root_token, kv_mounts)
    app.add_routes(control)
    app.add_routes(auth_routes.routes)
    app.add_routes(kv_routes.routes)
    return app
