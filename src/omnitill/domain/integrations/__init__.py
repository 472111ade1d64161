"""Integrations with the outside: webhooks (signing, verification, retry schedule)."""
