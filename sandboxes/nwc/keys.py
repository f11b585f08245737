"""The sandbox wallet's key is derived from the app's connection secret, so one NWC URI is all
both sides need to be configured with (tests build the URI before anything starts)."""

import hashlib
from urllib.parse import parse_qs, urlencode, urlparse

from nostr_sdk import Keys, SecretKey

_WALLET_KEY_LABEL = b"hometryon-nwc-sandbox-wallet:"


def wallet_keys_for(client_secret_hex: str) -> Keys:
    digest = hashlib.sha256(_WALLET_KEY_LABEL + bytes.fromhex(client_secret_hex)).digest()
    return Keys(SecretKey.from_bytes(digest))


def connection_uri(client_secret_hex: str, relay_port: int) -> str:
    """``nostr+walletconnect://<wallet pubkey>?relay=ws://127.0.0.1:<port>&secret=<client secret>``."""
    wallet_pubkey = wallet_keys_for(client_secret_hex).public_key().to_hex()
    query = urlencode({"relay": f"ws://127.0.0.1:{relay_port}", "secret": client_secret_hex})
    return f"nostr+walletconnect://{wallet_pubkey}?{query}"


def parse_connection_uri(uri: str) -> tuple[str, str, str]:
    """(wallet pubkey hex, relay URL, client secret hex) of an NWC connection URI."""
    parsed = urlparse(uri)
    query = parse_qs(parsed.query)
    return parsed.netloc, query["relay"][0], query["secret"][0]
