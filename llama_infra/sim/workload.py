"""Workloads: replay a per-request trace as is, or synthesise arrivals from a rate profile.

Per-request traces use the Azure LLM inference trace columns: TIMESTAMP (arrival, `YYYY-MM-DD hh:mm:ss[.fffffff]`,
UTC), ContextTokens (prompt), GeneratedTokens (output). Rate profiles use `minute_offset` and
`requests_per_minute_mid` (see llama_infra/data/traces/README.md). A bad file is a `TraceError` that names the file,
the line, the column and the fix.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from llama_infra.trace_format import TraceError, requests
from llama_infra.trace_format import header as _header
from llama_infra.trace_format import read_text as _read_text

RATE_COLUMNS = ("minute_offset", "requests_per_minute_mid")
SHARED_RATE_PROFILE = "azure_llm_2024_coding_week_rate.csv"
RATE_PROFILE_START = datetime(2024, 5, 10, tzinfo=UTC)  # README: the week starts 2024-05-10 00:00 UTC


@dataclass(frozen=True)
class Workload:
    """Requests sorted by arrival: seconds from `start`, prompt tokens, output tokens."""

    arrival_s: np.ndarray
    prompt_tokens: np.ndarray
    output_tokens: np.ndarray
    start: datetime
    duration_s: float
    description: str

    def __len__(self) -> int:
        return len(self.arrival_s)

    @property
    def mean_prompt_tokens(self) -> float:
        return float(self.prompt_tokens.mean()) if len(self) else 0.0

    @property
    def mean_output_tokens(self) -> float:
        return float(self.output_tokens.mean()) if len(self) else 0.0

    def window(self, start_s: float, end_s: float) -> Workload:
        """Requests in [start_s, end_s), re-based so that the window starts at 0."""
        if not 0 <= start_s < end_s:
            raise ValueError(f"window {start_s:g}s:{end_s:g}s is empty or negative; write START:END with START < END")
        lo, hi = np.searchsorted(self.arrival_s, [start_s, end_s])
        return replace(
            self,
            arrival_s=self.arrival_s[lo:hi] - start_s,
            prompt_tokens=self.prompt_tokens[lo:hi],
            output_tokens=self.output_tokens[lo:hi],
            start=self.start + timedelta(seconds=start_s),
            duration_s=min(end_s, self.duration_s) - start_s,
            description=f"{self.description}, window {_fmt_s(start_s)}–{_fmt_s(end_s)}",
        )


def _fmt_s(s: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size and s % size == 0:
            return f"{s / size:g}{unit}"
    return f"{s:g}s"


def parse_window(text: str) -> tuple[float, float]:
    """`START:END` with optional units s/m/h/d, e.g. `0:1h`, `2d:3d`, `600:1200`."""
    parts = text.split(":")
    if len(parts) != 2:
        raise ValueError(f"window '{text}' must be START:END, e.g. 0:1h or 2d:3d")
    out = []
    for p in parts:
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", p)
        if not m:
            raise ValueError(f"window '{text}': '{p}' is not a duration; use a number with s, m, h or d")
        out.append(float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)])
    return out[0], out[1]


def load_trace(path: str | Path | None = None) -> Workload:
    """A per-request trace (the shared Azure 2023 code trace when `path` is None), validated line by line."""
    name, stamps, prompts, outputs = requests(path)
    try:
        times = np.array(stamps, dtype="datetime64[ns]")
    except ValueError:
        bad = next(i for i, s in enumerate(stamps) if not _is_timestamp(s))
        raise TraceError(
            name,
            bad + 2,
            "TIMESTAMP",
            f"'{stamps[bad]}' is not a timestamp",
            "write YYYY-MM-DD hh:mm:ss[.fraction] in UTC",
        ) from None
    steps = np.diff(times).astype(np.int64)
    if (steps < 0).any():
        i = int(np.argmax(steps < 0)) + 1
        raise TraceError(
            name,
            i + 2,
            "TIMESTAMP",
            f"timestamps are not sorted ({stamps[i]} comes after {stamps[i - 1]})",
            "sort the file by TIMESTAMP",
        )
    rel = (times - times[0]).astype(np.int64) / 1e9
    start = datetime.fromisoformat(str(times[0].astype("datetime64[us]"))).replace(tzinfo=UTC)
    return Workload(
        rel.astype(np.float64),
        np.array(prompts, dtype=np.int32),
        np.array(outputs, dtype=np.int32),
        start,
        float(rel[-1]) + 1e-3,
        f"replay of {Path(name).name} ({len(rel):,} requests)",
    )


def _is_timestamp(s: str) -> bool:
    try:
        np.datetime64(s)
        return True
    except ValueError:
        return False


@dataclass(frozen=True)
class RateProfile:
    """Requests per minute over time, piecewise constant between rows."""

    minute_offset: np.ndarray
    requests_per_minute: np.ndarray
    name: str

    @property
    def span_minutes(self) -> float:
        step = float(np.median(np.diff(self.minute_offset))) if len(self.minute_offset) > 1 else 1.0
        return float(self.minute_offset[-1]) + step


def load_rate_profile(path: str | Path | None = None) -> RateProfile:
    text, name = _read_text(path, SHARED_RATE_PROFILE)
    reader = csv.reader(io.StringIO(text))
    header = _header(reader, name, RATE_COLUMNS)
    im, ir = header.index(RATE_COLUMNS[0]), header.index(RATE_COLUMNS[1])
    mins: list[float] = []
    rates: list[float] = []
    for lineno, row in enumerate(reader, start=2):
        if not row:
            continue
        for col, idx, dest in ((RATE_COLUMNS[0], im, mins), (RATE_COLUMNS[1], ir, rates)):
            try:
                v = float(row[idx])
            except (ValueError, IndexError):
                raise TraceError(
                    name, lineno, col, f"'{row[idx] if idx < len(row) else ''}' is not a number", "write a number"
                ) from None
            if v < 0:
                raise TraceError(name, lineno, col, f"negative value {v:g}", "rates and offsets are ≥ 0")
            dest.append(v)
        if len(mins) > 1 and mins[-1] <= mins[-2]:
            raise TraceError(
                name, lineno, RATE_COLUMNS[0], "minute offsets are not increasing", "sort the file by minute_offset"
            )
    if not mins:
        raise TraceError(name, 2, None, "no rows after the header", "add rate rows")
    return RateProfile(np.array(mins), np.array(rates), Path(name).name)


def synthesize(
    profile: RateProfile, sizes: Workload, peak_rps: float, days: float, seed: int, start: datetime = RATE_PROFILE_START
) -> Workload:
    """A seeded non-homogeneous Poisson process following `profile`, scaled so its busiest row is `peak_rps`.

    Each profile row's rate holds until the next row (piecewise constant); the profile repeats if `days` is longer
    than it. Request sizes are drawn with replacement from `sizes` (prompt and output kept together).
    """
    if peak_rps <= 0 or days <= 0:
        raise ValueError("--peak-rps and --days must be > 0")
    if len(sizes) == 0:
        raise ValueError("the size trace has no requests to sample from")
    rng = np.random.default_rng(seed)
    span_s = profile.span_minutes * 60
    edges = np.append(profile.minute_offset * 60, span_s)
    rate = profile.requests_per_minute / profile.requests_per_minute.max() * peak_rps  # per second
    duration = days * 86400
    reps = int(np.ceil(duration / span_s))
    starts = np.concatenate([edges[:-1] + k * span_s for k in range(reps)])
    ends = np.concatenate([edges[1:] + k * span_s for k in range(reps)])
    rates = np.tile(rate, reps)
    ends = np.minimum(ends, duration)
    keep = starts < duration
    starts, ends, rates = starts[keep], ends[keep], rates[keep]
    counts = rng.poisson(rates * (ends - starts))
    arrivals = np.repeat(starts, counts) + rng.random(counts.sum()) * np.repeat(ends - starts, counts)
    arrivals.sort()
    pick = rng.integers(0, len(sizes), len(arrivals))
    return Workload(
        arrivals,
        sizes.prompt_tokens[pick],
        sizes.output_tokens[pick],
        start,
        duration,
        f"synthetic Poisson arrivals following {profile.name} scaled to {peak_rps:g} req/s peak, "
        f"{days:g} days, sizes sampled from {sizes.description.split(' (')[0].removeprefix('replay of ')}, "
        f"seed {seed}",
    )


def constant_rate(
    rps: float, duration_s: float, prompt_tokens: int, output_tokens: int, start: datetime = RATE_PROFILE_START
) -> Workload:
    """Evenly spaced arrivals of identical requests (for checks against closed-form answers)."""
    n = int(rps * duration_s)
    arrivals = np.arange(n) / rps
    return Workload(
        arrivals,
        np.full(n, prompt_tokens, np.int32),
        np.full(n, output_tokens, np.int32),
        start,
        duration_s,
        f"constant {rps:g} req/s of {prompt_tokens}+{output_tokens} tokens",
    )


def build_workload(
    trace: str | Path | None = None,
    rate_profile: str | Path | None = None,
    peak_rps: float | None = None,
    days: float = 7.0,
    window: str | None = None,
    seed: int = 0,
) -> Workload:
    """The CLI's workload: replay `trace` (default the shared one), or synthesise from `rate_profile` when given
    (`rate_profile="shared"` for the shared week) with sizes from `trace`; then take `window`."""
    sizes = load_trace(trace)
    if rate_profile is not None:
        if peak_rps is None:
            raise ValueError("--rate-profile needs --peak-rps (the busiest rate to scale the profile to)")
        profile = load_rate_profile(None if str(rate_profile) == "shared" else rate_profile)
        workload = synthesize(profile, sizes, peak_rps, days, seed)
    else:
        workload = sizes
    if window:
        workload = workload.window(*parse_window(window))
    return workload


def default_step_seconds(workload: Workload) -> float:
    """1 s steps up to a day of traffic, 5 s beyond (a week in minutes, not hours)."""
    return 1.0 if workload.duration_s <= 86400 else 5.0


RAMP_RISE = 0.05  # an hour is in a ramp when its arrivals exceed the previous hour's by this share of the busiest


def ramp_requests(workload: Workload) -> np.ndarray:
    """Which requests arrive during a ramp: in an hour whose arrivals exceed the hour before's by at least
    `RAMP_RISE` of the busiest hour's (where the predictive floor matters: the load rises faster than a cold start)."""
    if not len(workload):
        return np.zeros(0, dtype=bool)
    hours = (workload.arrival_s // 3600).astype(np.int64)
    counts = np.bincount(hours, minlength=int(workload.duration_s // 3600) + 1).astype(float)
    rise = np.diff(counts, prepend=counts[0])
    return (rise >= RAMP_RISE * counts.max())[hours]
