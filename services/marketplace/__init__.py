"""Marketplace pages served by the gateway: catalog, pack pages, hosted paywall, Lightning checkout."""
