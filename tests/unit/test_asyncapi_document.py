"""The AsyncAPI document: the committed file is what the apps generate, and it covers every topic."""

from typing import Any

from apps.cli.asyncapi import DOCUMENT, asyncapi_document, rendered
from shared.messaging.topics import Topics
from tests.infra.asyncapi import committed_document, message_of, violations


def test_the_committed_document_is_the_generated_one() -> None:
    # Fails when a model, topic or subscriber changed without `billing docs asyncapi` being run.
    assert DOCUMENT.read_text() == rendered(asyncapi_document())


def test_every_topic_and_dead_letter_topic_has_a_channel_with_a_payload_schema() -> None:
    document = committed_document()
    assert document["asyncapi"] == "3.0.0"
    for topic in Topics().all():
        message = message_of(document, topic)
        assert message["payload"]["$ref"].startswith("#/components/schemas/"), topic
        assert message["contentType"], topic


def test_dead_letters_carry_the_original_payload_and_the_error_headers() -> None:
    document = committed_document()
    original = message_of(document, Topics().entitlement_updates)
    letter = message_of(document, Topics.dead_letters_of(Topics().entitlement_updates))
    assert letter["payload"] == original["payload"]
    assert {"x-error", "x-attempts", "x-original-topic"} <= set(letter["headers"]["properties"])


def test_every_service_that_consumes_has_its_receive_operation() -> None:
    operations = committed_document()["operations"].values()
    received = sorted(op["channel"]["$ref"].split("/")[-1] for op in operations if op["action"] == "receive")
    assert received == [
        "billing.catalog.changes:OnCatalogChanges",
        "billing.entitlement-updates:ApplyEntitlementUpdates",
        "billing.entitlements:telemetry-entitlements",
        "billing.telemetry:telemetry",
        "billing.webhooks.raw:webhook-ingest-lightning",
        "billing.webhooks.raw:webhook-ingest-revenuecat",
    ]


def test_the_entitlement_event_schema_refuses_what_a_subscriber_could_not_use() -> None:
    document = committed_document()
    schema = message_of(document, Topics().entitlements)["payload"]
    good: dict[str, Any] = {
        "specversion": "1.0",
        "id": "5b0c",
        "source": "hometryon-billing/entitlement-worker",
        "type": "entitlement.activated",
        "subject": "alice",
        "time": "2026-11-24T12:35:43.101000+00:00",
        "datacontenttype": "application/json",
        "data": {
            "userId": "alice",
            "packId": "5c54a7a2-64b0-4e0a-9a39-0d9f8f7c1a11",
            "status": "active",
            "provider": "revenuecat",
            "reference": "tx-1",
            "activationDate": "2026-11-24T06:00:00+00:00",
            "expirationDate": None,
            "entitlement_id": "3135a7a2-64b0-4e0a-9a39-0d9f8f7c1a11",
            "user_id": "alice",
            "pack_id": "5c54a7a2-64b0-4e0a-9a39-0d9f8f7c1a11",
            "pack_slug": "virtual-try-on",
            "source_provider": "revenuecat",
            "purchase_reference": "tx-1",
            "activated_at": "2026-11-24T06:00:00+00:00",
            "expires_at": None,
            "reason": None,
            "provider_event_id": "evt-1",
        },
    }
    assert violations(document, schema, good) == []
    assert violations(document, schema, good | {"type": "entitlement.paused"})
    assert violations(document, schema, good | {"data": {**good["data"], "status": "paused"}})
    without_user = {k: v for k, v in good["data"].items() if k != "userId"}
    assert violations(document, schema, good | {"data": without_user})
