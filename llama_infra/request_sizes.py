"""Request sizes of a workload: prompt and output tokens as percentiles (p50, p95, p99) and means.

A spec states them (`load.request_sizes.prompt_tokens` / `output_tokens`), names a per-request trace to take them
from (`load.request_sizes.trace`, the Azure trace columns TIMESTAMP,ContextTokens,GeneratedTokens, read by the
trace reader in `trace_format`), or takes the default: the shared Azure LLM 2023 code trace that ships in
`llama_infra/data/traces/` (8,819 requests; see its README for source and licence).

Percentiles interpolate linearly between closest ranks (numpy's default). A stated distribution without a mean gets
the mean of the log-normal through its p50 and p95 (token counts are right-skewed; on the shared trace's prompts that
estimate is about 15 % above the real mean). No numpy: `validate` and `plan` run without the simulator's extra.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

from llama_infra.trace_format import SHARED_TRACE, token_columns

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec
    from llama_infra.spec.model import TokenPercentiles

Z_95 = 1.6448536269514722  # standard normal quantiles at 0.95 and 0.99
Z_99 = 2.3263478740408408


GRID = tuple(i / 200 for i in range(201))  # quantile levels a trace's distribution keeps (every half percent)


@dataclass(frozen=True)
class TokenDistribution:
    p50: float
    p95: float
    p99: float
    mean: float
    grid: tuple[float, ...] | None = None  # tokens at the levels in GRID (from a trace); None: from the percentiles

    def quantile(self, q: float) -> float:
        """Tokens at quantile level q (0–1): a trace's own quantiles, or for stated percentiles log-linear between
        them (below p50 and above p99 the log-normal through p50 and p95, so the tail above p99 keeps growing)."""
        if self.grid is not None:
            i = min(int(q * 200), 199)
            frac = min(max(q * 200 - i, 0.0), 1.0)
            return self.grid[i] + (self.grid[i + 1] - self.grid[i]) * frac
        from statistics import NormalDist

        z = NormalDist().inv_cdf(min(max(q, 1e-6), 1 - 1e-6))
        points = [(0.0, math.log(self.p50)), (Z_95, math.log(self.p95)), (Z_99, math.log(self.p99))]
        sigma = max(math.log(self.p95 / self.p50), 0.0) / Z_95
        if z <= 0:
            return self.p50 * math.exp(sigma * z)
        for (z0, l0), (z1, l1) in pairwise(points):
            if z <= z1:
                return math.exp(l0 + (l1 - l0) * (z - z0) / (z1 - z0)) if z1 > z0 else math.exp(l1)
        return self.p99 * math.exp(sigma * (z - Z_99))


@dataclass(frozen=True)
class RequestSizes:
    prompt: TokenDistribution
    output: TokenDistribution
    source: str  # where the numbers come from, for reports


def lognormal_mean(p50: float, p95: float) -> float:
    """Mean of the log-normal whose median is p50 and 95th percentile p95."""
    sigma = math.log(max(p95, p50) / p50) / Z_95
    return p50 * math.exp(sigma * sigma / 2)


def percentile(sorted_values: list[float], q: float) -> float:
    """numpy's default percentile (linear interpolation between closest ranks), q in 0–100."""
    pos = (len(sorted_values) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def _distribution(values: list[int]) -> TokenDistribution:
    xs = sorted(float(v) for v in values)
    p50, p95, p99 = (percentile(xs, q) for q in (50, 95, 99))
    grid = tuple(percentile(xs, q * 100) for q in GRID)
    return TokenDistribution(p50, p95, p99, math.fsum(xs) / len(xs), grid)


@cache
def _from_trace_cached(path: str | None, mtime_ns: int) -> RequestSizes:
    name, prompts, outputs = token_columns(path)
    what = f"the shared trace {SHARED_TRACE}" if path is None else f"trace {path}"
    return RequestSizes(_distribution(prompts), _distribution(outputs), f"{what} ({len(prompts):,} requests)")


def from_trace(path: str | Path | None = None) -> RequestSizes:
    """Sizes of a per-request trace (the shared Azure 2023 code trace when `path` is None). A bad file raises a
    located `TraceError` (file, line, column, fix)."""
    if path is None:
        return _from_trace_cached(None, 0)
    p = Path(path)
    try:
        mtime = p.stat().st_mtime_ns
    except OSError:
        mtime = -1  # load_trace reports the unreadable file
    return _from_trace_cached(str(p), mtime)


def shared() -> RequestSizes:
    """The documented default: the shared Azure LLM 2023 code trace."""
    return from_trace(None)


def _stated(t: TokenPercentiles) -> TokenDistribution:
    return TokenDistribution(t.p50, t.p95, t.p99, t.mean if t.mean is not None else lognormal_mean(t.p50, t.p95))


def trace_path(spec: DeploymentSpec) -> Path | None:
    """The spec's trace file, resolved against the spec file's folder (the working directory without a file)."""
    rs = spec.load.request_sizes
    if rs is None or rs.trace is None:
        return None
    p = Path(rs.trace)
    base = spec.spec_dir
    return p if p.is_absolute() or base is None else base / p


def of_spec(spec: DeploymentSpec) -> RequestSizes:
    """The request sizes a spec's load has: stated, from its trace, or the shared default."""
    rs = spec.load.request_sizes
    if rs is not None and rs.prompt_tokens is not None and rs.output_tokens is not None:
        return RequestSizes(_stated(rs.prompt_tokens), _stated(rs.output_tokens), "stated in load.request_sizes")
    path = trace_path(spec)
    return from_trace(path) if path is not None else shared()
