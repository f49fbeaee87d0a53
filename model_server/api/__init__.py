"""Versioned HTTP/JSON API of the model process (FastAPI; schema at /v1/openapi.json)."""
