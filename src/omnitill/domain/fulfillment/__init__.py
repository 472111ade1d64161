"""Fulfillment rules: which locations fulfil an order (`routing`), pure and deterministic."""
