"""``billing secrets|apikeys|audit|retention``: rotate secrets, manage API keys, verify the audit
chain, run the retention job. Secret values are never printed unless ``--reveal`` asks for it."""

import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from apps.cli.progress import working
from shared.bootstrap import command_runtime
from shared.connectors.registry import provider_dedupe_rows, raw_payload_columns, secret_specs
from shared.db.audit_log import append_audit
from shared.db.pruning import SpentRowRetention
from shared.db.unit_of_work import unit_of_work
from shared.domain.audit import AuditEntry
from shared.messaging.audit_anchors import read_latest_anchor
from shared.messaging.topics import Topics
from shared.security.api_keys import create_api_key, list_api_keys, parse_scopes, revoke_api_key
from shared.security.audit_chain import verify_audit_chain
from shared.security.retention import run_retention
from shared.security.secret_names import spec_of
from shared.security.secrets import build_secret_provider
from shared.settings import get_settings

secrets_app = typer.Typer(
    help="Provider secrets and signing keys: rotate, end a rotation window, status", no_args_is_help=True
)
apikeys_app = typer.Typer(help="Gateway API keys: create, revoke, list", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log: verify its hash chain", no_args_is_help=True)
retention_app = typer.Typer(
    help="Purge raw webhook payloads and audit details past retention", no_args_is_help=True
)

T = TypeVar("T")


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


async def _in_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async with command_runtime(get_settings()) as runtime, unit_of_work(runtime.sessions) as session:
        return await work(session)


@secrets_app.command("rotate")
def rotate_secret(
    name: str,
    value_stdin: Annotated[
        bool, typer.Option(help="read the new value from stdin (provider-issued)")
    ] = False,
    window: Annotated[int | None, typer.Option(help="seconds the old value still verifies")] = None,
    reveal: Annotated[
        bool, typer.Option(help="print the new value (to configure it at the provider)")
    ] = False,
) -> None:
    """Make a new value current; the old one keeps verifying (never signing) for the rotation window."""
    try:
        spec = spec_of(secret_specs(), name)
    except LookupError as exc:
        raise typer.BadParameter(str(exc)) from None
    new_value = sys.stdin.readline().strip() if value_stdin else None
    if value_stdin and not new_value:
        raise typer.BadParameter("no value on stdin")
    provider = build_secret_provider(get_settings(), secret_specs())
    rotation = asyncio.run(provider.rotate(name, new_value, window))
    until = rotation.previous_valid_until
    details = {
        "kind": spec.kind.value,
        "backend": get_settings().secret_backend,
        "version": rotation.versions.version,
        "previous_valid_until": until.isoformat() if until else None,
    }
    asyncio.run(
        _in_transaction(
            lambda s: append_audit(s, AuditEntry(_actor(), "secret.rotated", f"secret:{name}", details))
        )
    )
    typer.echo(f"rotated {name} (version {rotation.versions.version})")
    if until is not None:
        typer.echo(f"rotation window: the previous value is accepted until {until.isoformat()}")
    else:
        typer.echo("rotation window: none (no previous value to keep, or a provider credential)")
    if reveal:
        typer.echo(f"new value: {rotation.versions.current.reveal()}")


@secrets_app.command("end-window")
def end_rotation_window(name: str) -> None:
    """Stop accepting the previous value now (once the provider sends with the new one)."""
    spec_of(secret_specs(), name)
    asyncio.run(build_secret_provider(get_settings(), secret_specs()).end_rotation_window(name))
    asyncio.run(
        _in_transaction(
            lambda s: append_audit(s, AuditEntry(_actor(), "secret.window_ended", f"secret:{name}"))
        )
    )
    typer.echo(f"{name}: the previous value is no longer accepted")


@secrets_app.command("status")
def secrets_status() -> None:
    """Which secrets are configured, how old they are and whether a rotation window is open (never
    their values); the policy is ``secret_max_age_days`` (docs/runbook.md)."""

    async def statuses() -> list[str]:
        provider = build_secret_provider(get_settings(), secret_specs())
        now = datetime.now(UTC)
        lines = []
        for name, spec in sorted(secret_specs().items()):
            if not await provider.is_configured(name):
                lines.append(f"{name}\t{spec.kind.value}\tnot configured")
                continue
            versions = await provider.versions(name)
            window = "no previous value"
            if versions.previous is not None:
                until = versions.previous_valid_until
                window = f"previous accepted until {until.isoformat()}" if until else "previous accepted"
            rotated = versions.rotated_at
            age = f"{(now - rotated).days} days old" if rotated else "age unknown (set in the environment)"
            lines.append(f"{name}\t{spec.kind.value}\tconfigured\t{age}\t{window}")
        return lines

    for line in asyncio.run(statuses()):
        typer.echo(line)


@apikeys_app.command("create")
def create_key(
    name: Annotated[str, typer.Option(help="what the key is for")],
    scope: Annotated[list[str], typer.Option(help="packs:read, checkout:write, entitlements:read, admin")],
    user: Annotated[str | None, typer.Option(help="make a user token: reads only this user")] = None,
    ttl_seconds: Annotated[int | None, typer.Option(help="expire after this many seconds")] = None,
    rate_limit: Annotated[int | None, typer.Option(help="requests per minute (default: setting)")] = None,
) -> None:
    """Create a key and print it once; only its hash is stored."""
    try:
        scopes = parse_scopes(scope)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    issued = asyncio.run(
        _in_transaction(
            lambda s: create_api_key(
                s,
                name=name,
                scopes=scopes,
                created_by=_actor(),
                user_id=user,
                ttl=timedelta(seconds=ttl_seconds) if ttl_seconds else None,
                rate_limit_per_minute=rate_limit,
            )
        )
    )
    typer.echo(f"id: {issued.id}\nprefix: {issued.prefix}\nscopes: {' '.join(sorted(scopes))}")
    typer.echo(f"key (shown once): {issued.key.reveal()}")


@apikeys_app.command("revoke")
def revoke_key(key: Annotated[str, typer.Argument(help="the key's id or public prefix")]) -> None:
    """Revoke a key at once."""
    row = asyncio.run(_in_transaction(lambda s: revoke_api_key(s, key, _actor())))
    if row is None:
        typer.echo(f"no live key {key!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {row.id} ({row.name})")


@apikeys_app.command("list")
def list_keys(include_revoked: bool = False) -> None:
    """Keys with their scopes (never the keys themselves)."""
    for row in asyncio.run(_in_transaction(lambda s: list_api_keys(s, include_revoked))):
        state = "revoked" if row.revoked_at else "live"
        owner = f"user={row.user_id}" if row.user_id else "-"
        expires = row.expires_at.isoformat() if row.expires_at else "never"
        typer.echo(
            f"{row.id}\tbk_{row.prefix}\t{state}\t{','.join(row.scopes)}\t{owner}\texpires={expires}\t{row.name}"
        )


@audit_app.command("verify")
def verify_chain() -> None:
    """Check every sealed row's hash link and the newest Kafka anchor; exit 1 naming what broke."""
    settings = get_settings()
    anchor = asyncio.run(
        read_latest_anchor(settings.kafka_bootstrap, Topics(settings.namespace).audit_anchors)
    )
    report = asyncio.run(_in_transaction(lambda s: verify_audit_chain(s, anchor)))
    if report.intact:
        anchored = f"anchored at position {anchor.position}" if anchor else "no anchor published yet"
        typer.echo(
            f"audit chain intact: {report.rows_checked} rows, head {report.head_hash}, "
            f"{anchored}, {report.unsealed} not sealed yet"
        )
        return
    where = f" at seq {report.broken_at_seq}" if report.broken_at_seq is not None else ""
    typer.echo(
        f"audit chain BROKEN{where}: {report.reason} ({report.rows_checked} rows verified before it)",
        err=True,
    )
    raise typer.Exit(1)


@retention_app.command("run")
def run_retention_job(
    raw_days: Annotated[int | None, typer.Option(help="raw payload retention (default: setting)")] = None,
    audit_days: Annotated[int | None, typer.Option(help="audit details retention (default: setting)")] = None,
) -> None:
    """Purge what is past retention now and print what was removed."""
    settings = get_settings()
    with working("purging what is past retention"):
        report = asyncio.run(
            _in_transaction(
                lambda s: run_retention(
                    s,
                    raw_payload_columns(),
                    raw_days if raw_days is not None else settings.raw_payload_retention_days,
                    audit_days if audit_days is not None else settings.audit_details_retention_days,
                    _actor(),
                    spent_rows=SpentRowRetention.from_settings(settings, provider_dedupe_rows()),
                )
            )
        )
    typer.echo(f"raw payloads received before {report.raw_payload_cutoff.isoformat()} purged")
    typer.echo(f"audit details older than {report.audit_details_cutoff.isoformat()} purged")
    for place, count in report.purged.items():
        typer.echo(f"  {place}: {count}")
    typer.echo(f"{report.total} purged in total")
