"""``billing revenuecat purchase USER PACK``: the README's by-hand purchase, against the running stack."""

import asyncio
import sys
from urllib.parse import urlsplit

from apps.stack.processes import REPO_ROOT, settings_env
from tests.conftest import Stack
from tests.infra.revenuecat import make_pack


async def test_purchase_command_shows_the_new_entitlement(stack: Stack, user_id: str) -> None:
    pack, _ = await make_pack(stack.sessions)
    env = settings_env(stack.settings)
    env["BILLING_REVENUECAT_SANDBOX_PORT"] = str(urlsplit(stack.sandbox_urls["revenuecat"]).port)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "apps.cli.main",
        "revenuecat",
        "purchase",
        user_id,
        pack.slug,
        cwd=REPO_ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
    assert "INITIAL_PURCHASE" in output.decode()
    assert f'"pack_slug": "{pack.slug}"' in output.decode()
    assert '"status": "active"' in output.decode()
