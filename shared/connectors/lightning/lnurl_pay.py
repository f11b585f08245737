"""LNURL-pay (LUD-06) for a checkout session: the LNURL, the metadata and its description hash."""

import hashlib
import json

from lnurl import LnurlPayMetadata, url_encode


def session_pay_url(public_base_url: str, session_id: str) -> str:
    return f"{public_base_url.rstrip('/')}/v1/lnurl/pay/{session_id}"


def session_callback_url(public_base_url: str, session_id: str) -> str:
    return f"{session_pay_url(public_base_url, session_id)}/callback"


def session_lnurl(public_base_url: str, session_id: str) -> str:
    """The bech32 ``LNURL1…`` a wallet scans; it encodes the session's payRequest URL."""
    return url_encode(session_pay_url(public_base_url, session_id))


def pay_metadata(description: str) -> str:
    """LUD-06 metadata: a JSON array as a string, validated by the ``lnurl`` library."""
    text = json.dumps([["text/plain", description]], separators=(",", ":"))
    return str(LnurlPayMetadata(text))


def description_hash(metadata: str) -> str:
    """What the invoice's ``h`` tag must carry: sha256 of the metadata string's UTF-8 bytes."""
    return hashlib.sha256(metadata.encode("utf-8")).hexdigest()
