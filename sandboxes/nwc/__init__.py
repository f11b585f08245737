"""An Alby Hub stand-in: a NIP-47 wallet service on a local Nostr relay, with a control API."""
