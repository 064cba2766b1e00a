"""The Xet storage formats: hashes, content-defined chunks and xorbs.

A leaf like `hubstead.protocol`: it imports only the standard library, `blake3` and `lz4`, so
that the server's CAS routes and the client can both build on it. It holds formats, not HTTP.
"""
