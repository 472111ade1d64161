"""Customers: contact details and addresses."""
