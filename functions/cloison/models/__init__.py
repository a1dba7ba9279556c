"""Pydantic models: API bodies (`api`), stored items (`records`) and event payloads (`events`)."""
