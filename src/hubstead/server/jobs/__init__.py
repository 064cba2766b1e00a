"""Background jobs: the runner, its in-process threads and Redis workers, and the handlers.

A driver layer beside `http/`: it may use `server.services` and, to reach an upstream hub, the
client library `hubstead.client`; services never import it.
"""
