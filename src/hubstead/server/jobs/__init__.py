"""Background jobs: the runner, its in-process threads and Redis workers, and the handlers.

A driver layer beside `http/`: it uses `server.services`, and knows the client library's and
httpx's errors only to tell which failures are worth retrying (`runner.is_retryable`). Upstream
hubs are reached by the mirroring services, through the storage adapter `storage/upstream_hub.py`.
"""
