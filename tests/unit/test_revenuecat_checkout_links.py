"""Web Purchase Link and hosted paywall URLs (pure)."""

from urllib.parse import parse_qs, urlsplit

from shared.connectors.revenuecat.checkout_links import hosted_paywall_url, web_purchase_link


def test_web_purchase_link_url_encodes_the_app_user_id() -> None:
    assert (
        web_purchase_link("https://pay.rev.cat/", "tok", "rc_a b/é")
        == "https://pay.rev.cat/tok/rc_a%20b%2F%C3%A9"
    )


def test_web_purchase_link_passes_the_email() -> None:
    url = web_purchase_link("https://pay.rev.cat", "tok", "rc_u", email="a+b@example.com")
    assert parse_qs(urlsplit(url).query) == {"email": ["a+b@example.com"]}


def test_hosted_paywall_names_pack_and_buyer_after_existing_query() -> None:
    url = hosted_paywall_url("https://hto.example/paywall?theme=dark", "try-on", "rc_u")
    assert parse_qs(urlsplit(url).query) == {"theme": ["dark"], "pack": ["try-on"], "app_user_id": ["rc_u"]}
