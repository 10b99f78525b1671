"""The per-request trace format (Azure LLM inference trace columns) and its located errors, without numpy.

TIMESTAMP (arrival, `YYYY-MM-DD hh:mm:ss[.fffffff]`, UTC), ContextTokens (prompt), GeneratedTokens (output). The
simulator replays such files (`sim.workload.load_trace`); the spec takes request sizes from them
(`request_sizes.from_trace`), which `validate` and `plan` need without the simulator's extra.
"""

from __future__ import annotations

import csv
import io
from importlib import resources
from pathlib import Path

TRACE_COLUMNS = ("TIMESTAMP", "ContextTokens", "GeneratedTokens")
SHARED_TRACE = "azure_llm_2023_code.csv"


class TraceError(ValueError):
    """A trace that cannot be used; the message names file, line, column, problem and fix."""

    def __init__(self, file: str, line: int | None, column: str | None, problem: str, fix: str):
        where = file + (f", line {line}" if line else "") + (f", column {column}" if column else "")
        super().__init__(f"{where}: {problem}; {fix}")


def read_text(path: str | Path | None, default: str) -> tuple[str, str]:
    """The file's text and the name errors use (`<shared>/<default>` for the shared traces)."""
    if path is None:
        return resources.files("llama_infra.data.traces").joinpath(default).read_text(), f"<shared>/{default}"
    p = Path(path)
    try:
        return p.read_text(), str(p)
    except OSError as e:
        raise TraceError(str(p), None, None, f"cannot read the file ({e.strerror})", "check the path") from None


def header(reader, name: str, required: tuple[str, ...]) -> list[str]:
    try:
        row = [h.strip() for h in next(reader)]
    except StopIteration:
        raise TraceError(name, 1, None, "the file is empty", f"write a header line: {','.join(required)}") from None
    missing = [c for c in required if c not in row]
    if missing:
        raise TraceError(
            name,
            1,
            missing[0],
            f"missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} (header has: {', '.join(row) or 'nothing'})",
            f"the header must contain {', '.join(required)}",
        )
    return row


def requests(path: str | Path | None = None) -> tuple[str, list[str], list[int], list[int]]:
    """The file's name and its requests' arrival stamps (as written), prompt and output token counts, checked line by
    line (the shared code trace by default). Stamps are parsed by the caller that needs them (the simulator)."""
    text, name = read_text(path, SHARED_TRACE)
    reader = csv.reader(io.StringIO(text))
    cols = header(reader, name, TRACE_COLUMNS)
    it, ip, io_ = (cols.index(c) for c in TRACE_COLUMNS)
    stamps: list[str] = []
    prompts: list[int] = []
    outputs: list[int] = []
    for lineno, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) < len(cols):
            raise TraceError(
                name,
                lineno,
                TRACE_COLUMNS[min(len(row), 2)],
                f"{len(row)} values, the header has {len(cols)}",
                "fill every column",
            )
        for col, idx, dest in (("ContextTokens", ip, prompts), ("GeneratedTokens", io_, outputs)):
            raw = row[idx].strip()
            try:
                value = int(raw)
            except ValueError:
                raise TraceError(
                    name, lineno, col, f"'{raw}' is not a whole number of tokens", "write a non-negative integer"
                ) from None
            if value < 0:
                raise TraceError(name, lineno, col, f"negative token count {value}", "token counts are ≥ 0")
            dest.append(value)
        stamps.append(row[it].strip())
    if not prompts:
        raise TraceError(name, 2, None, "no requests after the header", "add at least one request line")
    return name, stamps, prompts, outputs


def token_columns(path: str | Path | None = None) -> tuple[str, list[int], list[int]]:
    """The file's name, prompt and output token counts, checked line by line (the shared code trace by default)."""
    name, _stamps, prompts, outputs = requests(path)
    return name, prompts, outputs
