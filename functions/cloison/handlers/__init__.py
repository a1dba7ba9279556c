"""Handlers: one Lambda entry point per module."""
