"""Use cases: each takes its adapters as parameters and holds the business rules' order."""
