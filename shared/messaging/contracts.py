"""What a record on each topic looks like on the wire, as pydantic models for the AsyncAPI document.

The publishers write plain dicts and headers (the outbox stores JSON, the raw topic keeps the
provider's bytes), so these models state the contract those writes keep; the e2e test of the
document validates the CloudEvents really published against them, so they cannot drift apart.
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from shared.domain.entitlements import EntitlementEventType, EntitlementView, IsoDatetime
from shared.messaging.raw_deliveries import RawDeliveryHeader


class EntitlementEventData(EntitlementView):
    """``data`` of an entitlement CloudEvent: the entitlement after the change."""

    model_config = ConfigDict(extra="forbid")

    provider_event_id: str = Field(description="the provider event (or revocation) that caused the change")

    @classmethod
    def __get_pydantic_json_schema__(cls, core: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        # The names served before the seed's are written beside them (SeedShape): same schema each.
        schema = handler.resolve_ref_schema(handler(core))
        properties: dict[str, Any] = schema["properties"]
        for today, seed in cls.todays_names.items():
            properties[today] = {
                **properties[seed],
                "description": f"the same as `{seed}` (name used before)",
            }
        schema["required"] = [*schema.get("required", []), *cls.todays_names]
        return schema


class EntitlementCloudEvent(BaseModel):
    """A change of access on ``billing.entitlements`` (CloudEvents 1.0, structured JSON mode).

    ``id`` is stable across redeliveries: deduplicate on it. ``subject`` is the user id (also the key).
    """

    model_config = ConfigDict(extra="forbid", title="EntitlementCloudEvent")

    specversion: Literal["1.0"]
    id: str
    source: Literal["hometryon-billing/entitlement-worker"]
    type: EntitlementEventType
    subject: str = Field(description="our user id")
    time: IsoDatetime
    datacontenttype: Literal["application/json"]
    data: EntitlementEventData


class AuditAnchor(BaseModel):
    """The audit chain's head (shared/messaging/audit_anchors.py), always on partition 0."""

    model_config = ConfigDict(extra="forbid")

    position: int
    row_hash: str
    sealed_at: IsoDatetime


class RawDeliveryBody(BaseModel):
    """The provider's webhook body, byte for byte as it arrived (its signature was checked on it)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": True})


class RawDeliveryHeaders(BaseModel):
    """What the gateway knows about a delivery travels in headers; the key is ``provider[:source]:id``."""

    model_config = ConfigDict(populate_by_name=True)

    provider: str = Field(alias=RawDeliveryHeader.PROVIDER, description="revenuecat, lightning, ...")
    delivery_id: str = Field(alias=RawDeliveryHeader.DELIVERY_ID)
    received_at_ms: str = Field(alias=RawDeliveryHeader.RECEIVED_AT_MS, description="epoch milliseconds")
    source: str | None = Field(
        None, alias=RawDeliveryHeader.SOURCE, description="a provider's channel (btcpay, alby, nwc, poll)"
    )


class JsonHeaders(BaseModel):
    content_type: Literal["application/json"] = Field(alias="content-type")


class CloudEventHeaders(BaseModel):
    """The relay repeats the event's id and type in headers (outbox_relay.py), so a consumer can route
    or deduplicate without parsing the value."""

    content_type: Literal["application/cloudevents+json"] = Field(alias="content-type")
    ce_id: str
    ce_type: str


class TelemetryHeaders(BaseModel):
    """Telemetry is sent by ``TelemetryPublisher`` with its content type only: the id is in the value."""

    content_type: Literal["application/cloudevents+json"] = Field(alias="content-type")


class DeadLetterHeaders(BaseModel):
    """The original record's headers are kept; these are added (and dropped again by a replay)."""

    model_config = ConfigDict(extra="allow")

    x_error: str = Field(
        alias="x-error", description="why it could not be processed (first 2,000 characters)"
    )
    x_attempts: str = Field(alias="x-attempts", description="how many times it was tried")
    x_original_topic: str = Field(alias="x-original-topic", description="where `billing dlq replay` sends it")
