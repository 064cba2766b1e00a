"""The benchmarks' quick mode as a smoke test: every measurement runs and yields a usable ratio.

No figure is checked against a goal here: on a shared CI machine the figures mean nothing, and
goals are reported by `python -m bench run`, never asserted.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from bench.__main__ import REGISTRY

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.bench
@pytest.mark.slow
def test_quick_benchmark_run_measures_every_item_and_writes_the_report(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "run", "--quick", "--output", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]

    stored = json.loads((tmp_path / "performance.json").read_text())
    results = [entry["result"] for entry in stored["results"]]
    items = {result["key"].rstrip("abcdefghijklmnopqrstuvwxyz") for result in results}
    assert items == {item for _, module_items in REGISTRY for item in module_items}
    for result in results:
        assert math.isfinite(result["ratio"]) and result["ratio"] > 0, result
        assert result["runs"] and all(math.isfinite(s) and s > 0 for s in result["runs"]), result

    markdown = (tmp_path / "performance.md").read_text()
    table = done.stdout.splitlines()
    assert "## Machine" in markdown
    for result in results:
        assert f"| {result['key']} | {result['title']} |" in markdown
        assert any(line.startswith(f"{result['key']} ") for line in table), done.stdout
    assert (tmp_path / "performance.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
