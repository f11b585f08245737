"""AppRole auth method and token self-lookup/revocation, as in Vault's API docs (auth/approle, auth/token).

Role management needs a token allowed on ``auth/approle/role/*`` (the root token); login needs none.
A bad role_id/secret_id pair is a 400 ``invalid role or secret ID``; an expired token gets 403.
"""

import secrets
import uuid
from typing import Any

from aiohttp import web

from sandboxes.vault.api_envelope import errors, ok, permission_denied
from sandboxes.vault.context import STATE, authorized, caller
from sandboxes.vault.state import AppRole, Token

routes = web.RouteTableDef()


def _duration_s(value: Any, default: int) -> int:
    """Vault accepts seconds or duration strings ("1h", "30m", "45s")."""
    if value in (None, ""):
        return default
    if isinstance(value, int):
        return value
    text = str(value)
    units = {"s": 1, "m": 60, "h": 3600}
    if text[-1] in units:
        return int(text[:-1]) * units[text[-1]]
    return int(text)


@routes.post("/v1/auth/approle/role/{role}")
async def write_role(request: web.Request) -> web.Response:
    role_name = request.match_info["role"]
    if not authorized(request, f"auth/approle/role/{role_name}", "update"):
        return permission_denied()
    body = await request.json() if request.can_read_body else {}
    state = request.app[STATE]
    existing = state.approles.get(role_name)
    policies = body.get("token_policies") or body.get("policies") or ["default"]
    if isinstance(policies, str):
        policies = [p.strip() for p in policies.split(",") if p.strip()]
    state.approles[role_name] = AppRole(
        name=role_name,
        role_id=existing.role_id if existing else str(uuid.uuid4()),
        token_policies=list(policies),
        token_ttl_s=_duration_s(body.get("token_ttl"), 3600),
        secret_ids=existing.secret_ids if existing else {},
    )
    return web.Response(status=204)


@routes.get("/v1/auth/approle/role/{role}/role-id")
async def read_role_id(request: web.Request) -> web.Response:
    role_name = request.match_info["role"]
    if not authorized(request, f"auth/approle/role/{role_name}/role-id", "read"):
        return permission_denied()
    role = request.app[STATE].approles.get(role_name)
    if role is None:
        return errors(404)
    return ok({"role_id": role.role_id})


@routes.post("/v1/auth/approle/role/{role}/secret-id")
async def generate_secret_id(request: web.Request) -> web.Response:
    role_name = request.match_info["role"]
    if not authorized(request, f"auth/approle/role/{role_name}/secret-id", "update"):
        return permission_denied()
    role = request.app[STATE].approles.get(role_name)
    if role is None:
        return errors(400, f'role "{role_name}" does not exist')
    secret_id, accessor = str(uuid.uuid4()), str(uuid.uuid4())
    role.secret_ids[secret_id] = accessor
    return ok(
        {"secret_id": secret_id, "secret_id_accessor": accessor, "secret_id_ttl": 0, "secret_id_num_uses": 0}
    )


def _auth_block(token: Token) -> dict[str, Any]:
    return {
        "client_token": token.id,
        "accessor": token.accessor,
        "policies": ["default", *token.policies],
        "token_policies": ["default", *token.policies],
        "metadata": token.meta,
        "lease_duration": token.ttl_s,
        "renewable": True,
        "entity_id": "",
        "token_type": "service",
        "orphan": True,
    }


@routes.post("/v1/auth/approle/login")
async def approle_login(request: web.Request) -> web.Response:
    state = request.app[STATE]
    try:
        body = await request.json()
    except ValueError:
        return errors(400, "failed to parse JSON input")
    role = state.approle_by_role_id(str(body.get("role_id") or ""))
    secret_id = str(body.get("secret_id") or "")
    if role is None or not any(secrets.compare_digest(secret_id, s) for s in role.secret_ids):
        return errors(400, "invalid role or secret ID")
    token = state.issue_token(role.token_policies, role.token_ttl_s, {"role_name": role.name})
    state.logins += 1
    return ok(None, auth=_auth_block(token))


@routes.get("/v1/auth/token/lookup-self")
async def lookup_self(request: web.Request) -> web.Response:
    token = caller(request)
    if token is None:
        return permission_denied()
    return ok(
        {
            "accessor": token.accessor,
            "id": token.id,
            "policies": token.policies,
            "ttl": token.remaining_s(),
            "meta": token.meta,
            "renewable": token.ttl_s != 0,
        }
    )


@routes.post("/v1/auth/token/revoke-self")
async def revoke_self(request: web.Request) -> web.Response:
    token = caller(request)
    if token is None:
        return permission_denied()
    token.revoked = True
    return web.Response(status=204)
