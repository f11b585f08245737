"""What the ingest handlers share: the process's runtime and each configured provider's plugin."""

from dataclasses import dataclass

from shared.bootstrap import Runtime


@dataclass(frozen=True)
class IngestContext:
    runtime: Runtime
