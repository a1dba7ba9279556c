"""`cloison`: the command line of operators and scripts, on top of Cloison's HTTP API."""
