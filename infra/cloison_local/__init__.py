"""The local stack: runs template.yaml on one machine with moto, no AWS account."""
