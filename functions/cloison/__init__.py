"""Cloison: bulk SMS campaigns with confidential replies."""
