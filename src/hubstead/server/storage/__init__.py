"""Storage layer: disk and database access behind the Protocols of `interfaces.py`."""
