"""KV secrets engine version 2: ``/v1/<mount>/data/<path>`` and ``/v1/<mount>/metadata/<path>``.

Shapes follow Vault's published API (api-docs/secret/kv/kv-v2): read returns ``data.data`` and
``data.metadata``; write takes ``{"options": {"cas": N}, "data": {...}}`` and returns the version's
metadata; a check-and-set mismatch is a 400, a missing secret a 404 with an empty ``errors`` list.
"""

from typing import Any

from aiohttp import web

from sandboxes.vault.api_envelope import errors, ok, permission_denied
from sandboxes.vault.context import STATE, authorized
from sandboxes.vault.state import KvSecret, KvVersion, VaultState, vault_time

routes = web.RouteTableDef()
MAX_VERSIONS = 10


def _version_metadata(secret: KvSecret, number: int) -> dict[str, Any]:
    version = secret.versions[number]
    return {
        "created_time": version.created_time,
        "custom_metadata": secret.custom_metadata,
        "deletion_time": version.deletion_time,
        "destroyed": version.destroyed,
        "version": number,
    }


def _store(state: VaultState, mount: str) -> dict[str, KvSecret] | None:
    return state.kv.get(mount)


@routes.get("/v1/{mount}/data/{path:.+}")
async def read_secret(request: web.Request) -> web.Response:
    state = request.app[STATE]
    mount, path = request.match_info["mount"], request.match_info["path"]
    if not authorized(request, f"{mount}/data/{path}", "read"):
        return permission_denied()
    store = _store(state, mount)
    if store is None:
        return errors(404, f'no handler for route "{mount}/data/{path}". route entry not found.')
    secret = store.get(path)
    if secret is None or secret.current_version == 0:
        return errors(404)
    number = int(request.query.get("version") or secret.current_version)
    version = secret.versions.get(number)
    if version is None:
        return errors(404)
    metadata = _version_metadata(secret, number)
    if version.deletion_time or version.destroyed:
        # Vault answers 404 with the metadata of a deleted version (hvac may raise on it).
        return web.json_response({"data": {"data": None, "metadata": metadata}}, status=404)
    return ok({"data": version.data, "metadata": metadata})


@routes.post("/v1/{mount}/data/{path:.+}")
@routes.put("/v1/{mount}/data/{path:.+}")
async def write_secret(request: web.Request) -> web.Response:
    state = request.app[STATE]
    mount, path = request.match_info["mount"], request.match_info["path"]
    store = _store(state, mount)
    exists = store is not None and path in store
    if not authorized(request, f"{mount}/data/{path}", "update" if exists else "create"):
        return permission_denied()
    if store is None:
        return errors(404, f'no handler for route "{mount}/data/{path}". route entry not found.')
    try:
        body = await request.json()
    except ValueError:
        return errors(400, "failed to parse JSON input")
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        return errors(400, "no data provided")
    secret = store.setdefault(path, KvSecret())
    cas = (body.get("options") or {}).get("cas")
    if cas is not None and int(cas) != secret.current_version:
        return errors(400, "check-and-set parameter did not match the current version")
    secret.current_version += 1
    secret.versions[secret.current_version] = KvVersion(data=data, created_time=vault_time())
    secret.updated_time = vault_time()
    for old in sorted(secret.versions)[:-MAX_VERSIONS]:
        del secret.versions[old]
    return ok(_version_metadata(secret, secret.current_version))


@routes.get("/v1/{mount}/metadata/{path:.+}")
async def read_metadata(request: web.Request) -> web.Response:
    state = request.app[STATE]
    mount, path = request.match_info["mount"], request.match_info["path"]
    if not authorized(request, f"{mount}/metadata/{path}", "read"):
        return permission_denied()
    secret = (_store(state, mount) or {}).get(path)
    if secret is None:
        return errors(404)
    return ok(
        {
            "cas_required": False,
            "created_time": secret.created_time,
            "current_version": secret.current_version,
            "custom_metadata": secret.custom_metadata,
            "delete_version_after": "0s",
            "max_versions": 0,
            "oldest_version": min(secret.versions),
            "updated_time": secret.updated_time,
            "versions": {str(n): _version_metadata(secret, n) for n in secret.versions},
        }
    )


@routes.delete("/v1/{mount}/metadata/{path:.+}")
async def delete_metadata(request: web.Request) -> web.Response:
    state = request.app[STATE]
    mount, path = request.match_info["mount"], request.match_info["path"]
    if not authorized(request, f"{mount}/metadata/{path}", "delete"):
        return permission_denied()
    (_store(state, mount) or {}).pop(path, None)
    return web.Response(status=204)
