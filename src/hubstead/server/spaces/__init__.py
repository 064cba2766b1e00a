"""Space runners: the drivers that build and run Space apps (`services/spaces/runner.py`)."""
