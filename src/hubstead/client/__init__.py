"""The hubstead client: talks the Hub protocol to hubstead or huggingface.co (no server code)."""
