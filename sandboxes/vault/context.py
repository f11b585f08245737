"""The sandbox state's app key and the caller's token (``X-Vault-Token`` or ``Authorization: Bearer``)."""

from aiohttp import web

from sandboxes.vault.state import Token, VaultState

STATE = web.AppKey("vault_state", VaultState)


def caller(request: web.Request) -> Token | None:
    token_id = request.headers.get("X-Vault-Token")
    authorization = request.headers.get("Authorization", "")
    if not token_id and authorization.startswith("Bearer "):
        token_id = authorization.removeprefix("Bearer ")
    return request.app[STATE].token(token_id)


def authorized(request: web.Request, path: str, capability: str) -> bool:
    """The caller's token is valid and a policy grants ``capability`` on ``path``."""
    token = caller(request)
    return token is not None and request.app[STATE].allowed(token, path, capability)
