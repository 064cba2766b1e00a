"""`python -m bench run [--quick] [--only 1,4] [--runs N] [--output DIR]`: run the benchmarks.

Each measurement module of `REGISTRY` runs in turn (a failure is reported and the others still
run); the results are printed as a table and written to `performance.md`, `performance.png` and
`performance.json` in the output directory: `docs/` for a full run, a temporary directory for a
quick one unless `--output` says otherwise. The exit status is 1 when a measurement failed (not
when a goal is missed: figures are reported, never asserted).
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench._core import FULL_SIZE, QUICK_SIZE, BenchContext, Result, isolate_environment
from bench._machine import describe
from bench._report import Measured, Report, print_table

ROOT = Path(__file__).resolve().parents[1]
# The measurement modules (in `bench/`) and the items of the issue each one measures.
REGISTRY: list[tuple[str, tuple[str, ...]]] = [
    ("large_download", ("1", "2")),
    ("upload", ("3",)),
    ("small_files", ("4", "5")),
    ("metadata", ("6",)),
    ("memory", ("7",)),
    ("mirror", ("8",)),
    ("xet", ("9",)),
    ("web_pages", ("10",)),
    ("s3", ("11",)),
]
FULL_RUNS = 5
Measure = Callable[[BenchContext], list[Result]]


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the benchmarks and write the report")
    run.add_argument("--quick", action="store_true", help="smoke test: small sizes, one run")
    run.add_argument(
        "--only",
        type=lambda text: [part.strip() for part in text.split(",") if part.strip()],
        default=None,
        help="items (1,4) or module names (upload) to run [all]",
    )
    run.add_argument("--runs", type=int, help=f"samples per case [{FULL_RUNS}; quick: 1]")
    run.add_argument("--output", type=Path, help="where the report goes [docs/; quick: a temp dir]")
    run.add_argument("--workdir", type=Path, help="where hubs and files go [a temp dir]")
    run.add_argument("--keep", action="store_true", help="keep the work dir afterwards")
    arguments = parser.parse_args(argv)
    isolate_environment()
    selected = _select(arguments.only)
    if not selected:
        parser.error(f"--only matches nothing; items and modules: {REGISTRY}")
    runs = arguments.runs or (1 if arguments.quick else FULL_RUNS)
    output = arguments.output
    if output is None:
        output = (
            Path(tempfile.gettempdir()) / "hubstead-bench-quick"
            if arguments.quick
            else (ROOT / "docs")
        )
    return run_benchmarks(
        selected,
        quick=arguments.quick,
        runs=runs,
        output=output,
        workdir=arguments.workdir,
        keep=arguments.keep,
    )


def _select(only: list[str] | None) -> list[str]:
    if only is None:
        return [module for module, _ in REGISTRY]
    return [module for module, items in REGISTRY if module in only or any(i in only for i in items)]


def run_benchmarks(
    modules: list[str], *, quick: bool, runs: int, output: Path, workdir: Path | None, keep: bool
) -> int:
    """Run `modules`, print the table, write the report; 1 if a measurement failed."""
    work = Path(tempfile.mkdtemp(prefix="hubstead-bench-", dir=workdir))
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    size = QUICK_SIZE if quick else FULL_SIZE
    load_before = os.getloadavg()[0]
    results_by_module: list[list[Result]] = []
    failures: list[tuple[str, str]] = []
    try:
        for module in modules:
            print(f"{module}:", file=sys.stderr, flush=True)
            started = time.monotonic()
            ctx = BenchContext(quick=quick, workdir=work / module, runs=runs, size_bytes=size)
            outcome = _run_one(module, ctx, keep=keep)
            if isinstance(outcome, str):
                failures.append((module, outcome))
                continue
            print(f"  done in {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
            results_by_module.append(outcome)
    finally:
        if keep:
            print(f"kept the work dir {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    load = f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    measured = [
        Measured(r, date, quick, runs, size, load) for results in results_by_module for r in results
    ]
    print_table([m.result for m in measured])
    report = Report(describe(workdir or Path(tempfile.gettempdir())), measured, failures)
    if len(modules) < len(REGISTRY):
        report.merge_previous(output)
    for path in report.write(output):
        print(f"wrote {path}", file=sys.stderr)
    for module, error in failures:
        print(f"FAILED: {module}: {error}", file=sys.stderr)
    return 1 if failures else 0


def _run_one(module: str, ctx: BenchContext, *, keep: bool) -> list[Result] | str:
    """The results of one measurement module, or what went wrong (its traceback on stderr)."""
    ctx.workdir.mkdir(parents=True)
    try:
        measure: Measure = importlib.import_module(f"bench.{module}").measure
        results = measure(ctx)
        if not results:
            raise RuntimeError("the measurement returned no result")
        return results
    except Exception as error:
        traceback.print_exc()
        return f"{type(error).__name__}: {error}".splitlines()[0]
    finally:
        ctx.close()
        if not keep:
            shutil.rmtree(ctx.workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
