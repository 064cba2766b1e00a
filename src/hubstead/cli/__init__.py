"""The `hubstead` command line."""
