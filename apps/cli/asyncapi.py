"""The AsyncAPI 3 document of every topic, generated from the FastStream apps and the message models.

FastStream writes the document (``faststream.specification.AsyncAPI``): the receive operations
from the apps' real subscribers (``build_app`` of ingest, worker and catalog_sync), the send
operations from one publisher per sender and topic declared from ``asyncapi_topics.py``. Each
message then gets its topic's pydantic model as payload (in the names the wire uses), its headers,
content type and key. ``billing docs asyncapi`` writes it to ``docs/asyncapi.json``; a test fails
when the committed file differs from a fresh one.
"""

import asyncio
import gc
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote

from faststream import FastStream
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from pydantic import BaseModel

from apps.cli.asyncapi_topics import TopicContract, contracts_for
from services.catalog_sync.app import build_app as build_catalog_sync
from services.entitlement_worker.app import build_app as build_worker
from services.telemetry.app import build_app as build_telemetry
from services.webhook_ingest.app import build_app as build_ingest
from shared.messaging.topics import Topics
from shared.settings import Settings

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.json"
SCHEMAS_REF = "#/components/schemas/{model}"
CONSUMERS: tuple[Callable[[Settings], FastStream], ...] = (
    build_ingest,
    build_worker,
    build_catalog_sync,
    build_telemetry,
)


def documented_settings() -> Settings:
    """Fixed settings, so the document is the same wherever it is generated: no namespace, the
    documented broker, every registered provider configured (ingest subscribes once per provider)."""
    return Settings(
        _env_file=None,
        namespace="",
        kafka_bootstrap="127.0.0.1:19092",
        lightning_backend="btcpay",
        btcpay_base_url="http://btcpay.invalid",
        btcpay_store_id="docs",
    )


def asyncapi_document() -> dict[str, Any]:
    return asyncio.run(_document(documented_settings()))


async def _document(settings: Settings) -> dict[str, Any]:
    # The apps' aiokafka clients must be created inside a loop; they are never started, and their
    # "unclosed" complaint when collected is expected here.
    asyncio.get_running_loop().set_exception_handler(_unless_unstarted_client)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        consumers = [cast(KafkaBroker, build(settings).broker) for build in CONSUMERS]
        document = _specification(settings, consumers)
        del consumers
        gc.collect()
    return document


def _unless_unstarted_client(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    if not str(context.get("message", "")).startswith("Unclosed AIOKafka"):
        loop.default_exception_handler(context)


def _specification(settings: Settings, consumers: list[KafkaBroker]) -> dict[str, Any]:
    contracts = contracts_for(Topics(settings.namespace))
    senders = KafkaBroker(settings.kafka_bootstrap)
    for contract in contracts:
        for sender in contract.senders:
            senders.publisher(
                contract.topic,
                title=f"{contract.topic}:{sender}",
                description=contract.description,
                schema=contract.payload,
            )
        if not contract.senders:  # still a topic to watch: a channel without a send operation
            senders.publisher(contract.topic, title=contract.topic, schema=contract.payload)
    specification = AsyncAPI(
        *consumers,
        senders,
        title="HomeTryOn Billing topics",
        version="1.0.0",
        description=(
            "Every Kafka topic of HomeTryOn Billing. Topic names take the deployment's namespace as a "
            "prefix (none here). Entitlement events: docs/events.md."
        ),
        schema_version="3.0.0",
    ).to_specification()
    document: dict[str, Any] = specification.to_jsonable()
    unsent = {c.topic for c in contracts if not c.senders}
    document["operations"] = {
        name: operation
        for name, operation in document["operations"].items()
        if not (
            operation["action"] == "send" and unquote(operation["channel"]["$ref"]).split("/")[-1] in unsent
        )
    }
    _with_message_contracts(document, {c.topic: c for c in contracts})
    for part in (document, document["components"]):  # publishers are kept in a set: fix one order
        for section in ("channels", "operations", "messages"):
            if section in part:
                part[section] = dict(sorted(part[section].items()))
    return document


def _with_message_contracts(document: dict[str, Any], contracts: dict[str, TopicContract]) -> None:
    """Give every message its topic's payload model, headers, content type and key."""
    schemas: dict[str, Any] = {}
    messages = document["components"]["messages"]
    for channel in document["channels"].values():
        contract = contracts[channel["address"]]
        channel["description"] = channel.get("description") or contract.description
        for reference in channel["messages"].values():
            message = messages[unquote(reference["$ref"].rsplit("/", 1)[-1])]
            message["payload"] = _schema_ref(contract.payload, contract.by_alias, schemas)
            message["contentType"] = contract.content_type
            message["description"] = f"Kafka key: {contract.key}"
            message.pop("correlationId", None)  # FastStream's own header; our producers do not set it
            if contract.headers is not None:
                message["headers"] = contract.headers.model_json_schema(by_alias=True)
    document["components"]["schemas"] = dict(sorted(schemas.items()))


def _schema_ref(model: type[BaseModel], by_alias: bool, schemas: dict[str, Any]) -> dict[str, str]:
    schema = model.model_json_schema(by_alias=by_alias, ref_template=SCHEMAS_REF)
    schemas.update(schema.pop("$defs", {}))
    name = str(schema.get("title", model.__name__))
    schemas[name] = schema
    return {"$ref": SCHEMAS_REF.format(model=name)}


def rendered(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
