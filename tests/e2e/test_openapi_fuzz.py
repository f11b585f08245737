"""schemathesis against the live gateway, from the document it serves at ``/openapi.json``.

Every operation gets generated requests, valid (positive) and invalid (negative) by the document's
schemas, each sent with one of: a full-scope key, a key without the route's scope, a user token
for another user, an unknown key, no key. Asserted over all of them (≥ 1,000 requests): no answer
≥ 500, every status and body as documented; and no trace of a rejected request: the ledger
(``user_entitlements``, ``entitlement_history``) gains no row, and every record published during
the run is a catalog change of a pack an accepted admin write named (the audit anchors' topic
excepted: the sealer publishes the audit chain's head, rejections' audit rows included, by design).

Fixed generation (derandomized, no shrinking): CI sends the same requests every run.
"""

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import negative_data_rejection, not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import text

from services.gateway.api_docs import gateway_openapi
from shared.security.api_keys import Scope
from tests.conftest import Stack
from tests.infra.security import create_key
from tests.infra.waiting import eventually

pytestmark = [
    pytest.mark.kafka,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.timeout(600),
    # schemathesis' own strategies draw from `random`; not ours to change.
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning"),
]

EXAMPLES = {GenerationMode.POSITIVE: 35, GenerationMode.NEGATIVE: 25}
MIN_REQUESTS = 1000
# Invalid input must be refused (4xx); every answer's status, content type, headers and body as documented.
CHECKS = [
    not_a_server_error,
    negative_data_rejection,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
LEDGER_TABLES = ("user_entitlements", "entitlement_history")
ADMIN_PACK_WRITES = ("/v1/admin/packs",)


@dataclass
class Run:
    credentials: list[dict[str, str]]
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    written_slugs: set[str] = field(default_factory=set)


def _generation(mode: GenerationMode, n: int) -> settings:
    return settings(
        max_examples=n,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )


def _fuzz_operation(operation: Any, mode: GenerationMode, run: Run, base_url: str) -> None:
    session = requests.Session()

    @_generation(mode, EXAMPLES[mode])
    @given(case=operation.as_strategy(generation_mode=mode), credentials=st.sampled_from(run.credentials))
    def send(case: Any, credentials: dict[str, str]) -> None:
        headers = {k: v for k, v in (case.headers or {}).items() if k.lower() not in {"x-api-key"}}
        if not case.path.startswith("/v1/webhooks/"):
            headers.pop("Authorization", None)
            headers.update(credentials)
        case.headers = headers
        response = case.call(base_url=base_url, session=session, timeout=30)
        run.requests += 1
        run.statuses[response.status_code] += 1
        _note_effects(case, response, run)
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as failures:  # collected, so one run reports every broken operation
            run.failures.extend(
                f"{case.method} {case.formatted_path} → {response.status_code}: {failure}"
                for failure in failures.exceptions
            )

    try:
        send()
    except Unsatisfiable:
        # Nothing to make invalid: an operation without parameters or body (negative mode only).
        assert mode is GenerationMode.NEGATIVE, operation.label


def _note_effects(case: Any, response: requests.Response, run: Run) -> None:
    """What an accepted request may legitimately publish: a written pack's catalog change."""
    if response.status_code >= 300:
        return
    if case.path.startswith(ADMIN_PACK_WRITES) and case.method != "GET":
        run.written_slugs.add(response.json()["pack"]["slug"])


async def _ledger_rows(stack: Stack) -> dict[str, int]:
    async with stack.sessions() as session:
        counts = [(t, await session.execute(text(f"SELECT count(*) FROM {t}"))) for t in LEDGER_TABLES]  # noqa: S608
    return {table: result.scalar_one() for table, result in counts}


async def _outbox_drained(stack: Stack) -> bool:
    async with stack.sessions() as session:
        pending = await session.execute(text("SELECT count(*) FROM outbox WHERE published_at IS NULL"))
        return pending.scalar_one() == 0


async def test_schemathesis_finds_no_server_error_no_undocumented_answer_and_no_side_effect(
    stack: Stack, api_key: str
) -> None:
    async with httpx.AsyncClient() as http:  # no key: the document is public
        document = (await http.get(f"{stack.gateway_url}/openapi.json")).raise_for_status().json()
    schema = schemathesis.openapi.from_dict(document)
    packs_reader = await create_key(stack.sessions, frozenset({Scope.PACKS_READ}))
    user_token = await create_key(stack.sessions, frozenset({Scope.ENTITLEMENTS_READ}), user_id="fuzz-owner")
    run = Run(
        credentials=[
            {"X-API-Key": api_key},
            {"Authorization": f"Bearer {api_key}"},
            {"X-API-Key": packs_reader.key.reveal()},
            {"Authorization": f"Bearer {user_token.key.reveal()}"},
            {"X-API-Key": "htb_live_not-a-key"},
            {},
        ]
    )
    # Earlier tests' events are out before the baseline, so what follows is this run's.
    await eventually(lambda: _outbox_drained(stack), what="outbox drained")
    await stack.published.caught_up()
    published_before = len(stack.published.records)
    ledger_before = await _ledger_rows(stack)

    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        for mode in EXAMPLES:
            await asyncio.to_thread(_fuzz_operation, operation, mode, run, stack.gateway_url)

    assert run.requests >= MIN_REQUESTS, run.statuses
    assert not [s for s in run.statuses if s >= 500], run.statuses
    assert run.failures == [], "\n".join(run.failures[:20])
    await eventually(lambda: _outbox_drained(stack), what="outbox drained")
    await stack.published.caught_up()
    published = [
        r for r in stack.published.records[published_before:] if r.topic != stack.topics.audit_anchors
    ]
    unexplained = [
        (r.topic, r.key)
        for r in published
        if not (r.topic == stack.topics.catalog_changes and (r.key or b"").decode() in run.written_slugs)
    ]
    assert unexplained == []
    assert await _ledger_rows(stack) == ledger_before


async def test_the_document_and_its_page_are_served_without_a_key(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway_url) as http:
        document = await http.get("/openapi.json")
        page = await http.get("/docs")
        script = await http.get("/docs/static/swagger-ui-bundle.js")
    assert document.status_code == 200
    assert document.json() == gateway_openapi()
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert 'src="/docs/static/swagger-ui-bundle.js"' in page.text
    # Served from the checkout (make setup), not a CDN.
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.text
