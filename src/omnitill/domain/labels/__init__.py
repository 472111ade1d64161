"""Barcodes, shelf tags and printed tickets: what a label or a receipt printer draws (pure)."""
