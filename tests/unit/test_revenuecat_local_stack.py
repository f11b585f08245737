"""How ``billing up`` wires the RevenueCat sandbox: the adapter points at it unless told otherwise."""

from shared.connectors.revenuecat.cli import sandbox_command, sandbox_environment
from shared.settings import Settings


def test_stack_points_the_adapter_at_the_sandbox_and_starts_it() -> None:
    settings = Settings(revenuecat_sandbox_port=18091, gateway_port=18080)
    env = sandbox_environment({"BILLING_REVENUECAT_API_KEY": "sk_mine"}, settings)
    assert env["BILLING_REVENUECAT_API_BASE_URL"] == "http://127.0.0.1:18091"
    assert env["BILLING_REVENUECAT_API_KEY"] == "sk_mine"
    command = sandbox_command(env, settings)
    assert command is not None
    assert command[command.index("--webhook-url") + 1] == "http://127.0.0.1:18080/v1/webhooks/revenuecat"
    assert "sk_mine" not in command  # secrets reach the sandbox through its environment only


def test_an_explicit_revenuecat_base_url_is_kept_and_no_sandbox_started() -> None:
    settings = Settings(revenuecat_sandbox_port=18091)
    env = sandbox_environment({"BILLING_REVENUECAT_API_BASE_URL": "https://api.revenuecat.com"}, settings)
    assert env == {"BILLING_REVENUECAT_API_BASE_URL": "https://api.revenuecat.com"}
    assert sandbox_command(env, settings) is None
