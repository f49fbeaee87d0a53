"""AVI-Talking model process: speech in, visual instruction and facial curves out."""

__version__ = "0.1.0"
