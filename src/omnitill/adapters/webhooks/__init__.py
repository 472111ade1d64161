"""Webhook delivery over HTTP (standard library only: httpx is a dev dependency)."""
