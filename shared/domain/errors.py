"""Errors every layer may raise and every edge maps (HTTP status, retry or dead letter)."""


class ProviderError(Exception):
    """A provider call failed; ``retryable`` says whether trying again may help."""

    def __init__(self, provider: str, message: str, *, retryable: bool, status: int | None = None):
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.retryable = retryable
        self.status = status
