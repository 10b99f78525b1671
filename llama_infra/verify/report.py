"""Evidence report of a verification run: `report.md` (pass/fail per step, numbers, scaling events) and
`evidence.png` (load, replicas, latency percentiles and status codes over time)."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np

from llama_infra.verify.load import RequestRecord
from llama_infra.verify.procedure import VerificationResult

STATUS_CLASSES = ("2xx", "4xx", "5xx", "no response")


def status_class(record: RequestRecord) -> str:
    if record.status == 0:
        return "no response"
    if record.error or record.status >= 500:
        return "5xx"
    return f"{record.status // 100}xx" if record.status < 500 else "5xx"


def _bucket_seconds(result: VerificationResult) -> float:
    return max(result.plan.sample_interval_seconds, result.finished_at_seconds / 60, 1e-3)


def timeline(result: VerificationResult) -> dict[str, np.ndarray]:
    """Per-bucket series: start time, open requests, completions/s, latency P50/P95/P99, status counts."""
    width = _bucket_seconds(result)
    count = max(1, math.ceil(result.finished_at_seconds / width))
    starts = np.arange(count) * width
    series: dict[str, np.ndarray] = {"t": starts}
    open_requests = np.zeros(count)
    throughput = np.zeros(count)
    percentiles = {p: np.full(count, np.nan) for p in (50, 95, 99)}
    statuses = {name: np.zeros(count) for name in STATUS_CLASSES}
    by_bucket: dict[int, list[RequestRecord]] = {}
    for record in result.requests:
        index = min(count - 1, int(record.finished_at_seconds // width))
        by_bucket.setdefault(index, []).append(record)
        # Mean open requests per bucket: each request adds the fraction of the bucket it overlaps.
        for bucket in range(int(record.started_at_seconds // width), index + 1):
            overlap = min(record.finished_at_seconds, (bucket + 1) * width) - max(
                record.started_at_seconds, bucket * width
            )
            open_requests[bucket] += max(0.0, overlap) / width
    for index, records in by_bucket.items():
        throughput[index] = len(records) / width
        latencies = np.array([r.latency_seconds for r in records])
        for p in percentiles:
            percentiles[p][index] = np.percentile(latencies, p)
        for name, n in Counter(status_class(r) for r in records).items():
            statuses[name][index] = n
    series["open_requests"] = open_requests
    series["completions_per_second"] = throughput
    series |= {f"latency_p{p}_seconds": values for p, values in percentiles.items()}
    series |= {f"status_{name}": values for name, values in statuses.items()}
    return series


def write_png(result: VerificationResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = timeline(result)
    t = series["t"]
    fig, axes = plt.subplots(4, 1, figsize=(10, 11), sharex=True)
    load_ax, replica_ax, latency_ax, status_ax = axes
    load_ax.plot(t, series["open_requests"], label="open requests (mean)")
    load_ax.plot(t, series["completions_per_second"], label="completions/s")
    load_ax.set_title("Load")
    samples = result.samples
    replica_ax.step([s.at_seconds for s in samples], [s.desired for s in samples], where="post", label="desired")
    replica_ax.step([s.at_seconds for s in samples], [s.current for s in samples], where="post", label="serving")
    replica_ax.axhline(result.min_replicas, color="grey", linestyle=":", label="minimum")
    replica_ax.set_title("Replicas")
    for p in (50, 95, 99):
        latency_ax.plot(t, series[f"latency_p{p}_seconds"], label=f"P{p}")
    latency_ax.set_title("Latency (s)")
    bottom = np.zeros_like(t)
    colors = {"2xx": "tab:green", "4xx": "tab:orange", "5xx": "tab:red", "no response": "black"}
    width = _bucket_seconds(result) * 0.9
    for name in STATUS_CLASSES:
        values = series[f"status_{name}"]
        status_ax.bar(t, values, width=width, bottom=bottom, align="edge", label=name, color=colors[name])
        bottom = bottom + values
    status_ax.set_title("Responses by status")
    status_ax.set_xlabel("seconds since the load started")
    for ax in axes:
        ax.axvline(result.load_ended_at_seconds, color="grey", linestyle="--", linewidth=1)
        ax.legend(loc="upper right", fontsize="small")
        ax.grid(alpha=0.3)
    fig.suptitle(f"Autoscaling verification: {'PASS' if result.passed else 'FAIL'}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def render_markdown(result: VerificationResult, png_name: str) -> str:
    plan = result.plan
    latencies = np.array([r.latency_seconds for r in result.requests]) if result.requests else np.array([np.nan])
    codes = Counter(status_class(r) for r in result.requests)
    lines = [
        f"# Autoscaling verification: {'PASS' if result.passed else 'FAIL'}",
        "",
        f"- Target: {result.target}",
        f"- Scaler: {result.scaler}",
        f"- Started: {result.started_at.isoformat(timespec='seconds')}",
        f"- Load: {plan.concurrency} concurrent requests for {plan.load_duration_seconds:g} s "
        f"(ended at {result.load_ended_at_seconds:.1f} s); run ended at {result.finished_at_seconds:.1f} s",
        "",
        "| step | result | detail |",
        "|---|---|---|",
        *(f"| {s.name} | {'PASS' if s.passed else 'FAIL'} | {s.detail} |" for s in result.steps),
        "",
        "## Numbers",
        "",
        f"- Requests: {len(result.requests)} ("
        + ", ".join(f"{name}: {codes.get(name, 0)}" for name in STATUS_CLASSES)
        + ")",
        "- Latency P50 / P95 / P99: " + " / ".join(f"{np.percentile(latencies, p):.3f} s" for p in (50, 95, 99)),
        f"- Replicas: minimum {result.min_replicas}, peak desired "
        f"{max((s.desired for s in result.samples), default=0)}, peak serving "
        f"{max((s.current for s in result.samples), default=0)}",
        "",
        "## Scaling events",
        "",
    ]
    if result.events:
        lines += ["| time (UTC) | reason | message |", "|---|---|---|"]
        lines += [f"| {e.at.isoformat(timespec='seconds')} | {e.reason} | {e.message} |" for e in result.events]
    else:
        lines.append("None recorded by the scaler.")
    if result.scaler_errors:
        lines += ["", "## Scaler read errors", "", *(f"- {error}" for error in result.scaler_errors)]
    lines += [
        "",
        "## Replica samples",
        "",
        "| t (s) | desired | serving |",
        "|---|---|---|",
        *(f"| {s.at_seconds:.2f} | {s.desired} | {s.current} |" for s in result.samples),
        "",
        f"![load, replicas, latency and status codes over time]({png_name})",
        "",
    ]
    return "\n".join(lines)


def write_report(result: VerificationResult, directory: Path) -> Path:
    """Write report.md and evidence.png into `directory`; returns the Markdown path."""
    directory.mkdir(parents=True, exist_ok=True)
    write_png(result, directory / "evidence.png")
    markdown = directory / "report.md"
    markdown.write_text(render_markdown(result, "evidence.png"), encoding="utf-8")
    return markdown
