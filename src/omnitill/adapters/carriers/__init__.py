"""Parcel carriers behind the `domain.fulfillment.carrier.Carrier` contract: the sandbox."""
