"""omnitill: an open-source omnichannel point of sale."""

__version__ = "0.1.0"
