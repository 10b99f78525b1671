"""`make bench` (= `.venv/bin/python -m benchmarks [NAME...]`): run every `benchmarks/bench_*.py` and print tables.

A benchmark module exposes `run() -> list[dict]`: one row per measurement, every row with at least `benchmark`
and `case`; other keys become columns (name units in keys: `seconds`, `ms`, `ratio`). Measurements that are
compared sit side by side in one run (ratios, not absolute thresholds); nothing here is a pass/fail test.
`bench_router` also runs on its own with options (`python -m benchmarks.bench_router --help`).
While they run, a progress bar with ETA over the benchmarks (the one `simulate` and `tune` show) goes to stderr.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def discover() -> list[str]:
    return sorted(p.stem for p in HERE.glob("bench_*.py"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {', '.join(discover())})")
    args = parser.parse_args(argv)
    names = args.names or discover()
    unknown = [n for n in names if n not in discover()]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(discover())}", file=sys.stderr)
        return 1
    from rich.console import Console

    from llama_infra.cli.progress import EtaProgress

    console = Console()
    with EtaProgress(len(names), "benchmarks", show_after_seconds=0.0) as progress:
        for name in names:
            progress.describe(name)
            started = time.perf_counter()
            rows = importlib.import_module(f"benchmarks.{name}").run()
            progress(1)
            _print_table(console, name, time.perf_counter() - started, rows)
    return 0


def _print_table(console, name: str, seconds: float, rows: list[dict]) -> None:
    from rich.table import Table

    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    table = Table(title=f"{name} ({seconds:.1f} s)")
    for c in columns:
        table.add_column(c, justify="right" if all(isinstance(r.get(c), (int, float)) for r in rows) else "left")
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in columns))
    console.print(table)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


if __name__ == "__main__":
    sys.exit(main())
