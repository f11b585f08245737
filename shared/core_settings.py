"""The settings below the providers: connection points, security, retries, retention, observability.

Read from the environment (prefix ``BILLING_``). The layers under the connectors (db, messaging,
security, observability) take ``CoreSettings``; every provider adds its own section to it in
``shared/settings.py`` (``Settings``), whose fields are named ``<section>_<field>`` outside Python as
before: ``BILLING_REVENUECAT_API_KEY`` is ``settings.revenuecat.api_key``."""

from typing import Literal, TypeGuard

from pydantic import BaseModel, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class CoreSettings(BaseSettings):
    """Everything but the providers' sections; defaults match ``deploy/local``."""

    # A section's env names are BILLING_<SECTION>_<FIELD>: split once, after the section's name.
    model_config = SettingsConfigDict(
        env_prefix="BILLING_",
        env_file=".env",
        extra="ignore",
        env_nested_delimiter="_",
        env_nested_max_split=1,
    )

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:55432/billing"
    kafka_bootstrap: str = "127.0.0.1:19092"
    redis_url: str = "redis://127.0.0.1:56379/0"
    # Bounded, so a Redis that hangs fails fast and callers fall back or retry.
    redis_socket_timeout_s: float = 2.0
    redis_connect_timeout_s: float = 2.0
    # Prepended to every topic and consumer group, so parallel test runs never share state.
    namespace: str = ""
    kafka_partitions: int = 4
    # Topic durability per environment: 1/1 on the local single broker, 3/2 in the deploy manifests.
    kafka_replication_factor: int = 1
    kafka_min_insync_replicas: int = 1
    # Dead letters wait for a human: DLQ topics keep them this long (-1 = forever), not the broker's 24 h.
    kafka_dead_letter_retention_ms: int = -1

    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8080

    # Expiry sweeper: active entitlements past expires_at (plus grace) become expired.
    expiry_sweep_interval_s: float = 5.0
    expiry_sweep_grace_s: float = 0.0

    # Catalog admin API (create/update/deactivate packs): Authorization: Bearer <key>; empty = disabled.
    admin_api_key: SecretStr = SecretStr("")
    # catalog_sync: full reconciliation with every provider this often, plus on every catalog change.
    catalog_sync_interval_s: float = 300.0
    # Attempts per provider call during a sync (5xx/429/transport errors), with exponential backoff.
    catalog_sync_max_attempts: int = 4
    catalog_sync_backoff_initial_s: float = 0.5
    # catalog_sync also compares the ledger with every provider this often (0 = never): a drift
    # report and the billing_ledger_drift gauge; with auto_fix it enqueues the corrections too.
    reconcile_interval_s: float = 3600.0
    reconcile_auto_fix: bool = False

    # Processing failures (shared/messaging/failures.py): transient ones are retried forever with
    # exponential backoff from retry_initial_delay_s up to retry_max_delay_s; unknown ones
    # max_processing_attempts times before the dead letter; permanent ones are dead-lettered at once.
    max_processing_attempts: int = 5
    retry_initial_delay_s: float = 0.2
    retry_max_delay_s: float = 5.0
    outbox_poll_interval_s: float = 0.05
    outbox_batch_size: int = 500
    # The relay waits this long for a row's topic to appear in the broker's metadata before it
    # records the row as failed (a topic that does not exist would otherwise hold every round).
    outbox_topic_wait_s: float = 2.0

    # Consumers serve Prometheus metrics on this port when set (the gateway serves /metrics itself);
    # 0 = each on its own default port (ingest_metrics_port, ... at the end).
    metrics_port: int = 0

    # Security (docs/security.md). Secrets: "env" = these settings overlaid by <secrets_dir>/<name>.json
    # (what `billing secrets rotate` writes); "vault" = HashiCorp Vault KV v2 at <mount>/<prefix>/<name>.
    secret_backend: Literal["env", "vault"] = "env"  # noqa: S105 (a back-end name, not a secret)
    secrets_dir: str = ".local/secrets"
    secret_cache_ttl_s: float = 30.0
    # After a rotation the previous value still verifies (never signs) for this long.
    secret_rotation_window_s: int = 86400
    vault_url: str = ""
    vault_token: SecretStr = SecretStr("")
    # AppRole (used when role_id is set, else the token): Vault issues a short-lived token on login.
    vault_role_id: str = ""
    vault_secret_id: SecretStr = SecretStr("")
    vault_approle_mount: str = "approle"
    vault_kv_mount: str = "secret"
    vault_path_prefix: str = "billing"
    vault_timeout_s: float = 5.0
    # Standard Webhooks key ("whsec_…") signing our webhook acknowledgements; empty = generated into
    # secrets_dir on first use (env back end only).
    ack_signing_secret: SecretStr = SecretStr("")
    ack_signing_secret_previous: SecretStr | None = None
    # Standard Webhooks / Svix timestamp tolerance, both directions.
    webhook_tolerance_s: int = 300
    # Gateway API keys: requests per key per minute (a key may carry its own limit).
    api_rate_limit_per_minute: int = 600
    # Request bodies above this get 413; POST/PUT/PATCH must be application/json (else 415).
    max_request_body_bytes: int = 1024 * 1024
    # Retention job (`billing retention run`, and every retention_interval_s in the worker).
    raw_payload_retention_days: int = 90
    audit_details_retention_days: int = 365
    retention_interval_s: float = 3600.0
    # Spent rows deleted by the same job (shared/db/pruning.py).
    outbox_published_retention_days: int = 7
    processed_events_retention_days: int = 180
    idempotency_keys_retention_days: int = 2
    # Audit chain (docs/decisions/0011-audit-sealed-asynchronously.md): the worker's sealer chains new
    # rows every audit_seal_interval_s and publishes the head to Kafka when it advances and at least
    # every audit_anchor_republish_s. The gateway buffers at most audit_buffer_max rows it could not
    # write yet (beyond that it counts drops); per webhook source, the first
    # audit_rejected_burst rejections a minute get a row each, the rest one summary row.
    audit_seal_interval_s: float = 0.2
    audit_anchor_republish_s: float = 60.0
    audit_buffer_max: int = 10_000
    audit_rejected_burst: int = 100

    # Marketplace pages on the gateway (services/marketplace/): /market/... and the hosted /paywall.
    # Signs the browser's session cookie; empty = generated into secrets_dir on first use (env back end).
    marketplace_session_secret: SecretStr = SecretStr("")
    marketplace_session_secret_previous: SecretStr | None = None
    marketplace_session_ttl_s: int = 8 * 3600
    # Mark the session cookie Secure (set behind HTTPS; local `make run` serves plain HTTP).
    marketplace_secure_cookie: bool = False
    # Sign in by typing a user id (sandbox and demos only; production signs in with a user token).
    marketplace_dev_sign_in: bool = False
    # The RevenueCat sandbox's control API: when set, the hosted paywall completes purchases there
    # (`billing up` and the test stack); empty in production, where the paywall sends buyers to the store.
    marketplace_revenuecat_sandbox_url: str = ""

    log_format: Literal["auto", "console", "json"] = "auto"  # auto: JSON unless stderr is a TTY
    log_level: str = "INFO"

    # Metrics (issue 14 §5, docs/runbook.md). Each consumer serves Prometheus on its own port, so the
    # services of `billing up` never collide; metrics_port (above), when set, overrides all three (one
    # service per container); 0 = no metrics server.
    ingest_metrics_port: int = 9101
    worker_metrics_port: int = 9102
    catalog_sync_metrics_port: int = 9103
    telemetry_metrics_port: int = 9104
    # catalog_sync refreshes the backlog gauges (consumer lag, dead letters, outbox, secret age) this often.
    backlog_metrics_interval_s: float = 15.0
    # Rotation policy (the seed's quarterly rotation): older secrets are overdue (alert and a warning log).
    secret_max_age_days: int = 90

    # Telemetry (issue 13 §2-3: shared/messaging/telemetry.py, services/telemetry/, the admin dashboard).
    # Keys the HMAC that turns a user id into its pseudonym; empty = generated on first use (env back end).
    telemetry_pseudonym_secret: SecretStr = SecretStr("")
    telemetry_pseudonym_secret_previous: SecretStr | None = None
    # Events waiting for Kafka beyond this are dropped (and counted): telemetry never queues without end.
    telemetry_max_pending: int = 1000
    telemetry_send_timeout_s: float = 5.0
    # The admin dashboard's own session cookie (signed in with an admin API key), shorter than a user's.
    admin_dashboard_session_ttl_s: int = 3600

    # openapi (issue 14 §2): where /docs finds Swagger UI's assets (npm swagger-ui-dist, installed by
    # `make setup`); empty: the checkout's .local/swagger-ui.
    swagger_ui_dir: str = ""

    # redesign (issue 10): provider plugins beyond shared/connectors/registry.py's, as comma-separated
    # module paths each defining PROVIDER (the tests' toy provider: tests.infra.toy_provider).
    extra_providers: str = ""


def flat_settings(settings: BaseModel) -> dict[str, object]:
    """Every setting under its flat name, the env name without ``BILLING_``: a section's fields as
    ``<section>_<field>`` (what a subprocess's environment and the env secret store are keyed by)."""
    flat: dict[str, object] = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, BaseModel):
            flat.update({f"{name}_{field}": getattr(value, field) for field in type(value).model_fields})
        else:
            flat[name] = value
    return flat


def flat_setting_names(settings_class: type[BaseModel]) -> set[str]:
    """The flat names ``settings_class`` reads (``BILLING_`` + the upper-cased name is its env name)."""
    names: set[str] = set()
    for name, field in settings_class.model_fields.items():
        section = field.annotation
        if is_section(section):
            names.update(f"{name}_{sub}" for sub in section.model_fields)
        else:
            names.add(name)
    return names


def is_section(annotation: object) -> TypeGuard[type[BaseModel]]:
    """A field whose type is a model is a section (a provider's settings)."""
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)
