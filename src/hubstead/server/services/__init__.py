"""Domain services: plain synchronous Python, no HTTP; built once in `server/app.py`."""
