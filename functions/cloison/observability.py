"""Powertools logger, tracer and metrics shared by every handler."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(use_rfc3339=True)
tracer = Tracer()
metrics = Metrics()
