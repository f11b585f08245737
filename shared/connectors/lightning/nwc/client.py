"""Nostr Wallet Connect (NIP-47) through ``nostr-sdk``: requests to the wallet, notifications from it."""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import structlog
from nostr_sdk import (
    Client,
    Filter,
    Keys,
    Kind,
    LookupInvoiceRequest,
    LookupInvoiceResponse,
    MakeInvoiceRequest,
    NostrSdkError,
    NostrWalletConnect,
    NostrWalletConnectBuilder,
    NostrWalletConnectUri,
    ReqTarget,
    TransactionState,
)
from pydantic import BaseModel, ConfigDict

from shared.domain.errors import ProviderError
from shared.observability.provider_calls import provider_call

log = structlog.get_logger(__name__)

PROVIDER = "lightning-nwc"
NOTIFICATION_KINDS = (23196, 23197)  # NIP-04 and NIP-44 encrypted payment notifications


class NwcTransaction(BaseModel):
    """The NIP-47 transaction object as far as settlement needs it; amounts in msat, times unix s."""

    model_config = ConfigDict(frozen=True)

    payment_hash: str
    invoice: str | None = None
    amount: int
    preimage: str | None = None
    description_hash: str | None = None
    created_at: int | None = None
    expires_at: int | None = None
    settled_at: int | None = None
    state: str | None = None


class NwcClient:
    """One NIP-47 connection; the ``nostr-sdk`` client is built lazily inside the running loop."""

    def __init__(self, uri: str, timeout_s: float) -> None:
        self._uri = NostrWalletConnectUri.parse(uri)
        self._timeout = timedelta(seconds=timeout_s)
        self._nwc: NostrWalletConnect | None = None
        self._lock = asyncio.Lock()

    async def _client(self) -> NostrWalletConnect:
        async with self._lock:
            if self._nwc is None:
                self._nwc = NostrWalletConnectBuilder(self._uri).timeout(self._timeout).build()
            return self._nwc

    async def make_invoice(
        self, amount_msat: int, expiry_s: int, *, description: str | None, description_hash: str | None
    ) -> NwcTransaction:
        request = MakeInvoiceRequest(
            amount=amount_msat, description=description, description_hash=description_hash, expiry=expiry_s
        )
        try:
            with provider_call("nwc", "make_invoice"):
                made = await (await self._client()).make_invoice(request)
        except NostrSdkError as exc:
            raise _provider_error("make_invoice", exc) from exc
        if made.payment_hash is None or made.amount is None:
            raise ProviderError(
                PROVIDER, "make_invoice answered without payment_hash/amount", retryable=False
            )
        return NwcTransaction(
            payment_hash=made.payment_hash,
            invoice=made.invoice,
            amount=made.amount,
            description_hash=made.description_hash,
            created_at=made.created_at.as_secs() if made.created_at else None,
            expires_at=made.expires_at.as_secs() if made.expires_at else None,
        )

    async def lookup_invoice(self, payment_hash: str) -> NwcTransaction:
        try:
            with provider_call("nwc", "lookup_invoice"):
                found = await (await self._client()).lookup_invoice(
                    LookupInvoiceRequest(payment_hash=payment_hash, invoice=None)
                )
        except NostrSdkError as exc:
            raise _provider_error("lookup_invoice", exc) from exc
        return _transaction(found)

    async def shutdown(self) -> None:
        if self._nwc is not None:
            await self._nwc.client().shutdown()


def _transaction(found: LookupInvoiceResponse) -> NwcTransaction:
    state = (
        {
            TransactionState.PENDING: "pending",
            TransactionState.SETTLED: "settled",
            TransactionState.EXPIRED: "expired",
            TransactionState.FAILED: "failed",
            TransactionState.ACCEPTED: "accepted",
        }.get(found.state)
        if found.state is not None
        else None
    )
    return NwcTransaction(
        payment_hash=found.payment_hash,
        invoice=found.invoice,
        amount=found.amount,
        preimage=found.preimage,
        description_hash=found.description_hash,
        created_at=found.created_at.as_secs(),
        expires_at=found.expires_at.as_secs() if found.expires_at else None,
        settled_at=found.settled_at.as_secs() if found.settled_at else None,
        state=state,
    )


def _provider_error(method: str, exc: NostrSdkError) -> ProviderError:
    message = str(exc)
    # NIP-47 NOT_FOUND / RESTRICTED / UNAUTHORIZED do not heal by retrying; timeouts and relays may.
    permanent = any(
        code in message.upper() for code in ("NOT_FOUND", "NOT FOUND", "RESTRICTED", "UNAUTHORIZED")
    )
    return ProviderError(PROVIDER, f"{method}: {message}", retryable=not permanent)


async def payment_notifications(uri: str) -> AsyncIterator[dict[str, object]]:
    """Decrypted ``payment_received`` notifications from the wallet, as they arrive (best effort)."""
    parsed = NostrWalletConnectUri.parse(uri)
    keys = Keys(parsed.secret())
    wallet = parsed.public_key()
    client = Client()
    for relay in parsed.relays():
        await client.add_relay(relay)
    await client.connect()
    wanted = Filter().kinds([Kind(k) for k in NOTIFICATION_KINDS]).author(wallet).pubkey(keys.public_key())
    await client.subscribe(ReqTarget.auto([wanted]))
    stream = client.notifications()
    try:
        while (note := await stream.next()) is not None:
            if not note.is_new_event():
                continue
            event = note.event
            try:
                plain = (
                    keys.nip44_decrypt(wallet, event.content())
                    if event.kind().as_u16() == 23197
                    else keys.nip04_decrypt(wallet, event.content())
                )
                body = json.loads(plain)
            except (NostrSdkError, ValueError):
                log.warning("nwc_notification_unreadable", event_id=event.id().to_hex())
                continue
            if isinstance(body, dict) and body.get("notification_type") == "payment_received":
                yield body
    finally:
        await client.shutdown()
