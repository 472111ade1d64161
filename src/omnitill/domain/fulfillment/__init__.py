"""Fulfillment rules: which locations fulfil an order (`routing`), the carrier contract
(`carrier`), parcel rating (`shipping`) and opening hours (`hours`); pure and deterministic."""
