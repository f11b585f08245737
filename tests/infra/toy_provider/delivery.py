"""The toy provider's webhook: an HMAC-SHA256 of the raw body over a JSON event whose id is the
dedupe key. Plain values only: importing this module registers nothing."""

import hashlib
import hmac
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

NAME = "toy"
SIGNATURE_HEADER = "X-Toy-Signature"
SECRET_NAME = "toy_webhook_secret"


def signature(secret: str, body: bytes) -> str:
    """What the toy provider sends in ``X-Toy-Signature``: ``sha256=`` and the body's HMAC."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(received: str | None, secret: str, body: bytes) -> bool:
    return received is not None and hmac.compare_digest(received.encode(), signature(secret, body).encode())


class ToyEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)  # the dedupe key: the provider sends an event again with its id
    type: Literal["purchase", "refund"]
    user_id: str = Field(min_length=1)
    product_id: str = Field(min_length=1)
    purchase_id: str = Field(min_length=1)
    occurred_at: datetime
