"""The NIP-47 wallet service: answers ``make_invoice``/``lookup_invoice``/``get_info`` requests and
sends ``payment_received`` notifications (kind 23196 NIP-04 and 23197 NIP-44), over a local relay.
"""

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass
from typing import Any

import structlog
from nostr_sdk import (
    Client,
    Event,
    EventBuilder,
    Filter,
    Keys,
    Kind,
    LocalRelay,
    LocalRelayBuilder,
    PublicKey,
    RelayUrl,
    ReqTarget,
    Tag,
)

from sandboxes.btcpay.lightning_node import MintedInvoice, SandboxNode
from sandboxes.nwc.hosted_webhooks import HostedWebhooks

log = structlog.get_logger(__name__)

INFO, REQUEST, RESPONSE = 13194, 23194, 23195
NOTIFICATION_NIP04, NOTIFICATION_NIP44 = 23196, 23197
METHODS = ("make_invoice", "lookup_invoice", "get_info")


class WalletError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class WalletInvoice:
    minted: MintedInvoice
    description: str | None
    description_hash: str | None
    settled_at: int | None = None
    amount_received_msat: int | None = None
    # A faulty or thin wallet: NIP-47 makes ``preimage`` optional, and nothing stops a wrong one.
    reported_preimage: str | None = None
    reveals_preimage: bool = True

    def state(self, now: int) -> str:
        if self.settled_at is not None:
            return "settled"
        return "expired" if now >= self.minted.expires_at else "pending"

    @property
    def preimage(self) -> str | None:
        return (self.reported_preimage or self.minted.preimage) if self.reveals_preimage else None

    def transaction(self, now: int) -> dict[str, Any]:
        settled = self.settled_at is not None
        result: dict[str, Any] = {
            "type": "incoming",
            "state": self.state(now),
            "invoice": self.minted.bolt11,
            "description": self.description,
            "description_hash": self.description_hash,
            "preimage": self.preimage if settled else None,
            "payment_hash": self.minted.payment_hash,
            "amount": self.amount_received_msat if settled else self.minted.amount_msat,
            "fees_paid": 0,
            "created_at": self.minted.created_at,
            "expires_at": self.minted.expires_at,
            "metadata": {},
        }
        if settled:
            result["settled_at"] = self.settled_at
        return result


class NwcWallet:
    def __init__(
        self,
        wallet_keys: Keys,
        client_pubkey: PublicKey,
        relay_port: int,
        hosted_webhooks: HostedWebhooks | None = None,
    ) -> None:
        self.keys = wallet_keys
        self.client_pubkey = client_pubkey
        self.node = SandboxNode()
        self.invoices: dict[str, WalletInvoice] = {}
        self.drop_notifications = False
        self.hosted_webhooks = hosted_webhooks
        self.drop_hosted_webhooks = False
        self._relay_port = relay_port
        self._relay: LocalRelay | None = None
        self._client = Client()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._relay = LocalRelayBuilder().addr("127.0.0.1").port(self._relay_port).build()
        await self._relay.run()
        url = RelayUrl.parse(f"ws://127.0.0.1:{self._relay_port}")
        await self._client.add_relay(url)
        await self._client.connect()
        info = EventBuilder(Kind(INFO), " ".join(METHODS)).tags(
            [Tag.parse(["encryption", "nip44_v2 nip04"]), Tag.parse(["notifications", "payment_received"])]
        )
        await self._client.send_event(self._sign(info))
        requests = Filter().kind(Kind(REQUEST)).pubkey(self.keys.public_key())
        await self._client.subscribe(ReqTarget.auto([requests]))
        self._task = asyncio.create_task(self._serve())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._client.shutdown()
        if self._relay is not None:
            self._relay.shutdown()

    def _sign(self, builder: EventBuilder) -> Event:
        return self.keys.sign_event(builder.finalize_unsigned(self.keys.public_key()))

    async def _serve(self) -> None:
        stream = self._client.notifications()
        while (note := await stream.next()) is not None:
            if not note.is_new_event():
                continue
            event = note.event
            if event.kind().as_u16() == REQUEST:
                try:
                    await self._answer(event)
                except Exception:
                    log.exception("nwc_request_failed")

    async def _answer(self, event: Event) -> None:
        nip44 = any(tag.to_vec()[:2] == ["encryption", "nip44_v2"] for tag in event.tags())
        author = event.author()
        plain = (
            self.keys.nip44_decrypt(author, event.content())
            if nip44
            else self.keys.nip04_decrypt(author, event.content())
        )
        request = json.loads(plain)
        method = request.get("method", "")
        try:
            result, error = self._dispatch(method, request.get("params") or {}), None
        except WalletError as exc:
            result, error = None, {"code": exc.code, "message": str(exc)}
        body = json.dumps({"result_type": method, "error": error, "result": result})
        content = self.keys.nip44_encrypt(author, body) if nip44 else self.keys.nip04_encrypt(author, body)
        response = EventBuilder(Kind(RESPONSE), content).tags([Tag.public_key(author), Tag.event(event.id())])
        await self._client.send_event(self._sign(response))

    def _dispatch(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        now = int(time.time())
        if method == "make_invoice":
            return self.make_invoice(params, now)
        if method == "lookup_invoice":
            return self.lookup(params).transaction(now)
        if method == "get_info":
            return {
                "alias": "hometryon-nwc-sandbox",
                "color": "#f7931a",
                "pubkey": self.node.pubkey,
                "network": "regtest",
                "block_height": 1,
                "block_hash": "00" * 32,
                "methods": list(METHODS),
                "notifications": ["payment_received"],
            }
        raise WalletError("NOT_IMPLEMENTED", f"{method} is not supported by the sandbox")

    def make_invoice(self, params: dict[str, Any], now: int) -> dict[str, Any]:
        amount = params.get("amount")
        if not isinstance(amount, int) or amount <= 0:
            raise WalletError("OTHER", "amount (msats) must be a positive integer")
        expiry = int(params.get("expiry") or 3600)
        description_hash = params.get("description_hash")
        description = params.get("description")
        minted = (
            self.node.mint(amount, expiry, description_hash=description_hash)
            if description_hash
            else self.node.mint(amount, expiry, description=description or "")
        )
        invoice = WalletInvoice(minted, description, description_hash)
        self.invoices[minted.payment_hash] = invoice
        return invoice.transaction(now)

    def lookup(self, params: dict[str, Any]) -> WalletInvoice:
        payment_hash = params.get("payment_hash")
        if payment_hash is None and params.get("invoice"):
            payment_hash = next(
                (h for h, i in self.invoices.items() if i.minted.bolt11 == params["invoice"].lower()), None
            )
        invoice = self.invoices.get(payment_hash or "")
        if invoice is None:
            raise WalletError("NOT_FOUND", "invoice not found")
        return invoice

    async def pay(
        self,
        payment_hash: str,
        *,
        amount_msat: int | None,
        late: bool,
        reported_preimage: str | None = None,
        reveals_preimage: bool = True,
    ) -> WalletInvoice:
        """Settle the invoice (``late``: after its expiry) and notify the app, unless notifications drop;
        ``reported_preimage``/``reveals_preimage`` make the wallet report a wrong preimage or none."""
        invoice = self.lookup({"payment_hash": payment_hash})
        if invoice.settled_at is not None:
            raise WalletError("OTHER", "invoice already paid")
        now = int(time.time())
        if now >= invoice.minted.expires_at and not late:
            raise WalletError("OTHER", "invoice expired")
        invoice.settled_at = max(now, invoice.minted.expires_at + 1) if late else now
        invoice.amount_received_msat = amount_msat if amount_msat is not None else invoice.minted.amount_msat
        invoice.reported_preimage, invoice.reveals_preimage = reported_preimage, reveals_preimage
        if not self.drop_notifications:
            await self._notify(invoice)
        if self.hosted_webhooks is not None and not self.drop_hosted_webhooks:
            self.hosted_webhooks.invoice_settled(invoice.transaction(now))
        return invoice

    def expire(self, payment_hash: str) -> WalletInvoice:
        invoice = self.lookup({"payment_hash": payment_hash})
        if invoice.settled_at is None:
            invoice.minted = _expired_copy(invoice.minted)
        return invoice

    async def _notify(self, invoice: WalletInvoice) -> None:
        notification = invoice.transaction(int(time.time()))
        body = json.dumps({"notification_type": "payment_received", "notification": notification})
        for kind, content in (
            (NOTIFICATION_NIP44, self.keys.nip44_encrypt(self.client_pubkey, body)),
            (NOTIFICATION_NIP04, self.keys.nip04_encrypt(self.client_pubkey, body)),
        ):
            event = EventBuilder(Kind(kind), content).tags([Tag.public_key(self.client_pubkey)])
            await self._client.send_event(self._sign(event))


def _expired_copy(minted: MintedInvoice) -> MintedInvoice:
    """The same invoice with its expiry moved to now (the wallet stops accepting it)."""
    elapsed = max(0, int(time.time()) - minted.created_at)
    return MintedInvoice(
        minted.bolt11, minted.payment_hash, minted.preimage, minted.amount_msat, minted.created_at, elapsed
    )
