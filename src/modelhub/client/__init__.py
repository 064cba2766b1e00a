"""The modelhub client: talks the Hub protocol to modelhub or huggingface.co (no server code)."""
