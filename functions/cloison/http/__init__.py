"""The HTTP API: routes, problem documents, and the services they call."""
