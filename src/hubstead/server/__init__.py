"""The hubstead server: HTTP API, git and LFS endpoints over git, blob and SQL storage."""
