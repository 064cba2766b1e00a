"""The Xet storage formats (shards, xorbs, hashes) in pure Python: a leaf, no HTTP, no storage."""
