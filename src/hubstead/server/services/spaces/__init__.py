"""Spaces that run: their configuration, runtime state, logs, builds and the runner interface."""
