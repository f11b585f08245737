"""Everything one sandbox process holds, shared by its route handlers."""

from dataclasses import dataclass

from aiohttp import web

from sandboxes.revenuecat.config import SandboxConfig
from sandboxes.revenuecat.delivery import WebhookSender
from sandboxes.revenuecat.faults import Faults
from sandboxes.revenuecat.simulations import Sandbox


@dataclass(frozen=True)
class SandboxState:
    config: SandboxConfig
    sandbox: Sandbox
    sender: WebhookSender
    faults: Faults


STATE = web.AppKey("revenuecat_sandbox", SandboxState)
