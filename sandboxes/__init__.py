"""Local stand-ins for the outside providers, reached by base URL exactly like the real ones."""
