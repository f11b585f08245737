"""A local stand-in for HashiCorp Vault: KV v2 secrets engine, AppRole and token self-lookup."""
