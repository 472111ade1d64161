"""Integrations with the outside: webhooks (signing, verification, retry schedule, rules)
and customer notifications (messages, senders, the contexts of templates)."""
