"""An OpenAPI 3.1 document built from a table of operations and the pydantic models they name.

Each ``Operation`` pairs one route (method + aiohttp pattern) with its parameters, request model
and answers; ``openapi_document`` turns the table into the document, every model's JSON schema
under ``components/schemas`` (pydantic's ``models_json_schema``), so the document cannot drift
from the models the handlers validate and serialise with.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

REF_TEMPLATE = "#/components/schemas/{model}"
JSON = "application/json"
Schema = dict[str, Any]
ModelRef = tuple[type[BaseModel], JsonSchemaMode]


@dataclass(frozen=True)
class Parameter:
    name: str
    location: Literal["path", "query", "header"]
    schema: Schema = field(default_factory=lambda: {"type": "string"})
    description: str = ""
    required: bool = False


@dataclass(frozen=True)
class Answer:
    """One documented status: its body (a model, a raw schema, or none) and response headers."""

    description: str
    # One model, or several the body may be any one of.
    model: type[BaseModel] | tuple[type[BaseModel], ...] | None = None
    schema: Schema | None = None
    content_type: str = JSON
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    tag: str
    answers: Mapping[int, Answer]
    parameters: Sequence[Parameter] = ()
    # The request body's model, or several it may be any one of.
    body: type[BaseModel] | tuple[type[BaseModel], ...] | None = None
    # Names of security schemes, any one of which admits the call; empty: public.
    security: Sequence[str] = ()


def answer_mode(model: type[BaseModel]) -> JsonSchemaMode:
    """How an answer's model is described: as it serialises, unless a wrapping model serialiser
    (``SeedShape``'s, which adds today's names beside the seed's) in it or in a model it holds hides
    fields from pydantic's serialisation schema; then as the validation schema (aliases, the names
    written), so nested shapes are described too."""
    return "validation" if any(_serialises_itself(m) for m in _models_in(model)) else "serialization"


def _serialises_itself(model: type[BaseModel]) -> bool:
    return bool(model.__pydantic_decorators__.model_serializers)


def _models_in(model: type[BaseModel]) -> set[type[BaseModel]]:
    """``model`` and every model its fields hold, however deeply (lists, dicts, unions)."""
    found: set[type[BaseModel]] = set()
    pending: list[Any] = [model]
    while pending:
        tp = pending.pop()
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp in found:
                continue
            found.add(tp)
            pending.extend(f.annotation for f in tp.model_fields.values())
        else:
            pending.extend(get_args(tp))
    return found


def _models(operations: Sequence[Operation]) -> list[ModelRef]:
    wanted: dict[ModelRef, None] = {}
    for op in operations:
        for model in _as_tuple(op.body):
            wanted[(model, "validation")] = None
        for answer in op.answers.values():
            for model in _answer_models(answer):
                wanted[(model, answer_mode(model))] = None
    return list(wanted)


def _as_tuple(
    models: type[BaseModel] | tuple[type[BaseModel], ...] | None,
) -> tuple[type[BaseModel], ...]:
    if models is None:
        return ()
    return models if isinstance(models, tuple) else (models,)


def _answer_models(answer: Answer) -> tuple[type[BaseModel], ...]:
    return _as_tuple(answer.model)


def _one_of_them(schemas: list[Schema]) -> Schema:
    return schemas[0] if len(schemas) == 1 else {"anyOf": schemas}


def _content(schema: Schema, content_type: str) -> dict[str, Any]:
    return {content_type: {"schema": schema}}


def _answer(answer: Answer, refs: Mapping[ModelRef, Schema]) -> dict[str, Any]:
    out: dict[str, Any] = {"description": answer.description}
    schemas = [refs[(model, answer_mode(model))] for model in _answer_models(answer)]
    schema = _one_of_them(schemas) if schemas else answer.schema
    if schema is not None:
        out["content"] = _content(schema, answer.content_type)
    if answer.headers:
        out["headers"] = {
            name: {"description": text, "schema": {"type": "string"}} for name, text in answer.headers.items()
        }
    return out


def _operation(op: Operation, refs: Mapping[ModelRef, Schema]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "operationId": f"{op.method.lower()}{op.path.replace('/', '_').replace('{', '').replace('}', '')}",
        "summary": op.summary,
        "tags": [op.tag],
        "security": [{name: []} for name in op.security],
        "responses": {str(status): _answer(a, refs) for status, a in sorted(op.answers.items())},
    }
    if op.parameters:
        out["parameters"] = [
            {
                "name": p.name,
                "in": p.location,
                "required": p.required or p.location == "path",
                "description": p.description,
                "schema": p.schema,
            }
            for p in op.parameters
        ]
    bodies = [refs[(model, "validation")] for model in _as_tuple(op.body)]
    if bodies:
        out["requestBody"] = {"required": True, "content": _content(_one_of_them(bodies), JSON)}
    return out


def openapi_document(
    operations: Sequence[Operation],
    *,
    title: str,
    version: str,
    description: str,
    security_schemes: Mapping[str, Schema],
) -> dict[str, Any]:
    models = _models(operations)
    schemas, components = models_json_schema(models, ref_template=REF_TEMPLATE)
    refs: dict[ModelRef, Schema] = {(model, mode): schemas[(model, mode)] for model, mode in models}
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "paths": paths,
        "components": {
            "schemas": components.get("$defs", {}),
            "securitySchemes": dict(security_schemes),
        },
    }
