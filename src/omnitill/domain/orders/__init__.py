"""Orders: the life cycle of an order and of what each location does for it (pure rules)."""
