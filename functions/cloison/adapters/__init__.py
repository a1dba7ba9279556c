"""Small adapters in front of AWS services; services take them as parameters."""
