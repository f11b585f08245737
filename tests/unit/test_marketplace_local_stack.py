"""``billing up`` lets the hosted paywall complete purchases in the RevenueCat sandbox, and only then."""

from shared.connectors.revenuecat.cli import sandbox_environment
from shared.settings import Settings


def test_the_local_stack_points_the_paywall_at_the_revenuecat_sandbox() -> None:
    settings = Settings(revenuecat_sandbox_port=18091)
    env = sandbox_environment({"BILLING_REVENUECAT_API_KEY": "sk_mine"}, settings)
    assert env["BILLING_MARKETPLACE_REVENUECAT_SANDBOX_URL"] == "http://127.0.0.1:18091"


def test_with_the_real_revenuecat_the_paywall_completes_nothing_itself() -> None:
    env = sandbox_environment({"BILLING_REVENUECAT_API_BASE_URL": "https://api.revenuecat.com"}, Settings())
    assert "BILLING_MARKETPLACE_REVENUECAT_SANDBOX_URL" not in env
    defaults = Settings.model_fields
    assert defaults["marketplace_revenuecat_sandbox_url"].default == ""
    assert defaults["marketplace_dev_sign_in"].default is False
