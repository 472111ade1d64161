"""Payment gateways: the built-in sandbox processor and the Stripe adapter."""
