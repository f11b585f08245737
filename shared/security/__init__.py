"""Security controls: secrets, API keys, rate limits, signatures, the audit log, privacy and retention."""
