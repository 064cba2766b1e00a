"""Benchmarks: hubstead against a reference doing the same work, on the same machine, in one run.

Run them with `python -m bench run [--quick] [--only 1,4] [--runs N] [--output DIR]`; the
contract between the runner and the measurement modules is in `bench._core`.
"""
