"""Tenders, cash, cards and the payment gateway contract: pure rules, no I/O."""
