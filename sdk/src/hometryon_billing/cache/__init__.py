"""The local entitlement cache fed by the entitlement CloudEvents."""
