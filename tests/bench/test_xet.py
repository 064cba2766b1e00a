"""Item 9 of the benchmarks (`bench.xet`) at tiny sizes, in process: the Xet scenarios keep running.

Figures are not checked against their goals (see `test_bench_quick`), but the dedup scenario
must measure what it claims: the hub's dedup, through the real hf_xet, with no local cache.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from bench._core import QUICK_SIZE, BenchContext
from bench.xet import measure


@pytest.mark.bench
@pytest.mark.slow
def test_xet_benchmark_sees_a_changed_file_deduplicated_and_stored_once(tmp_path: Path) -> None:
    ctx = BenchContext(quick=True, workdir=tmp_path, runs=1, size_bytes=QUICK_SIZE)
    try:
        results = {result.key: result for result in measure(ctx)}
    finally:
        ctx.close()

    assert sorted(results) == ["9a", "9b", "9c", "9d", "9e", "9f", "9g"]
    for result in results.values():
        assert math.isfinite(result.ratio) and result.ratio > 0, result
        assert all(math.isfinite(s) and s > 0 for s in result.runs), result
    # Re-uploading the file with 1 % of it changed sends and stores a part of it, not all.
    assert results["9e"].ours < 50
    assert results["9f"].ours < 50
    # A file uploaded through Xet is held once: xorbs, no second copy as a sha256 blob.
    assert 1 <= results["9g"].ours < 1.5
