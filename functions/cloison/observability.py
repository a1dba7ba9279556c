"""Powertools logger, tracer and metrics shared by every handler."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(use_rfc3339=True)
# Every call out of a function goes through botocore: the X-Ray SDK patches nothing else (by
# default it patches every library it knows of that is installed, sqlite3 and http.client too).
tracer = Tracer(patch_modules=("botocore",))
metrics = Metrics()
