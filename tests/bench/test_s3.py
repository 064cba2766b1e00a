"""Item 11 of the benchmarks (`bench.s3`) at the quick size, in process: the S3 transfers run.

Figures are not checked against their goals (see `test_bench_quick`): each of the four
comparisons must yield a usable ratio from real transfers between the clients, the hub on the
s3 backend and moto's S3 API server.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from bench._core import QUICK_SIZE, BenchContext
from bench.s3 import measure


@pytest.mark.bench
@pytest.mark.slow
def test_s3_benchmark_compares_each_client_with_boto3_both_ways(tmp_path: Path) -> None:
    ctx = BenchContext(quick=True, workdir=tmp_path, runs=1, size_bytes=QUICK_SIZE)
    try:
        results = {result.key: result for result in measure(ctx)}
    finally:
        ctx.close()

    assert sorted(results) == ["11a", "11b", "11c", "11d"]
    for result in results.values():
        assert math.isfinite(result.ratio) and result.ratio > 0, result
        assert result.unit == "MiB/s" and result.higher_is_better, result
        for sample in (*result.runs, *result.reference_runs):
            assert math.isfinite(sample) and sample > 0, result
    # Both downloads are compared with the one boto3 download, both uploads with the upload.
    assert results["11a"].reference_runs == results["11b"].reference_runs
    assert results["11c"].reference_runs == results["11d"].reference_runs
    assert results["11a"].reference_runs != results["11c"].reference_runs
