"""The Vault sandbox for tests: started as a process, configured like an operator would (policy,
AppRole role, secret id) through Vault's HTTP API."""

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from apps.stack.processes import REPO_ROOT, free_port


@dataclass(frozen=True)
class VaultSandbox:
    url: str
    root_token: str

    def admin(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, headers={"X-Vault-Token": self.root_token})

    async def approle(self, role: str, path_prefix: str, token_ttl: str = "1h") -> tuple[str, str]:  # noqa: S107
        """A role allowed to read and write ``secret/data/<prefix>/*``; returns (role_id, secret_id)."""
        async with self.admin() as vault:
            policy = {"paths": {f"secret/data/{path_prefix}/*": ["create", "read", "update"]}}
            (await vault.put(f"/v1/sys/policies/acl/{role}", json=policy)).raise_for_status()
            body = {"token_policies": [role], "token_ttl": token_ttl}
            (await vault.post(f"/v1/auth/approle/role/{role}", json=body)).raise_for_status()
            role_id = (await vault.get(f"/v1/auth/approle/role/{role}/role-id")).json()["data"]["role_id"]
            secret_id = (await vault.post(f"/v1/auth/approle/role/{role}/secret-id")).json()["data"][
                "secret_id"
            ]
        return role_id, secret_id

    async def write(self, path: str, data: dict[str, object]) -> None:
        async with self.admin() as vault:
            (await vault.post(f"/v1/secret/data/{path}", json={"data": data})).raise_for_status()

    async def read(self, path: str) -> dict[str, object]:
        async with self.admin() as vault:
            response = await vault.get(f"/v1/secret/data/{path}")
            response.raise_for_status()
            return response.json()["data"]  # type: ignore[no-any-return]

    async def expire_tokens(self) -> dict[str, int]:
        """Every issued token expires now (sandbox control); returns expired and login counts."""
        async with httpx.AsyncClient(base_url=self.url) as vault:
            return (await vault.post("/_sandbox/expire-tokens")).json()  # type: ignore[no-any-return]


@contextmanager
def running_vault(log_dir: Path) -> Iterator[VaultSandbox]:
    port = free_port()
    root_token = f"hvs.root-{secrets.token_urlsafe(16)}"
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / "vault.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "sandboxes.vault", "--port", str(port)],
            env=dict(os.environ, VAULT_SANDBOX_ROOT_TOKEN=root_token),
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield VaultSandbox(f"http://127.0.0.1:{port}", root_token)
        finally:
            process.terminate()
            process.wait(timeout=10)
