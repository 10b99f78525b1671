"""`verify` passes when scaling is right and fails, saying why, when scale-up is late or a 5xx appears.

A fake backend (capacity = serving replicas x 2 slots) behind a fake Kubernetes API whose HPA follows HPA semantics;
the guide's procedure scaled from minutes to about two seconds. The procedure runs on the fake cluster's clock
(controller periods), so the deadlines hold on a machine too busy to keep wall-clock time.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

from llama_infra.router.testing import FakeOpenAIBackend
from llama_infra.verify.kubeconfig import load_kubeconfig
from llama_infra.verify.kubernetes import KubernetesHpaScaler
from llama_infra.verify.load import NO_RESPONSE, HttpLoadTarget, RequestRecord
from llama_infra.verify.procedure import (
    ReplicaSample,
    VerifyPlan,
    judge_no_server_errors,
    judge_scale_down,
    judge_scale_up,
    run_verification,
)
from llama_infra.verify.report import write_report
from llama_infra.verify.scaler import ReplicaCounts, ScalingEvent

PLAN = VerifyPlan(
    concurrency=8,
    load_duration_seconds=1.2,
    scale_up_within_seconds=0.6,
    scale_down_within_seconds=1.5,
    sample_interval_seconds=0.05,
)
BODY = {"model": "llama-70b", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8}


def backend() -> FakeOpenAIBackend:
    return FakeOpenAIBackend(model="llama-70b", latency_seconds=0.05, slots_per_replica=2)


async def verify(hpa, tmp_path, plan: VerifyPlan = PLAN):
    hpa.kubeconfig(tmp_path / "kubeconfig")
    scaler = KubernetesHpaScaler(load_kubeconfig(tmp_path / "kubeconfig"), "serving", "llama")
    target = HttpLoadTarget(f"{hpa.backend.url}/v1/chat/completions", BODY, None, 5, plan.concurrency)
    try:
        result = await run_verification(target, scaler, plan, clock=hpa.clock)
    finally:
        await target.close()
        await scaler.close()
    return result, write_report(result, tmp_path / "report")


async def test_passes_when_the_hpa_scales_up_in_time_and_back_down(tmp_path, fake_hpa):
    async with backend().serve() as server, fake_hpa(server).serve() as hpa:
        result, report = await verify(hpa, tmp_path)
    assert [step.passed for step in result.steps] == [True, True, True], result.steps
    assert max(s.desired for s in result.samples) == 4  # ceil(1 * 8 / 2) clamped to max 4
    assert result.samples[-1].current == 1
    assert any(event.message.startswith("New size: 4") for event in result.events)
    rose = next(s for s in result.samples if s.desired > 1)
    assert rose.at_seconds <= PLAN.scale_up_within_seconds  # on the cluster's clock: a few controller periods
    markdown = report.read_text()
    assert markdown.startswith("# Autoscaling verification: PASS")
    assert "| back to the minimum (1) within 1.5 s after the load | PASS |" in markdown
    assert "SuccessfulRescale" in markdown
    png = (tmp_path / "report" / "evidence.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


async def test_fails_with_a_clear_report_when_scale_up_is_late(tmp_path, fake_hpa):
    async with backend().serve() as server, fake_hpa(server, decision_delay_seconds=0.9).serve() as hpa:
        result, report = await verify(hpa, tmp_path)
    scale_up = result.steps[0]
    assert not scale_up.passed
    # The HPA decides 0.9 s (cluster time) after it first sees the queue: after the 0.6 s deadline, during the load.
    late = re.match(r"too late: desired 1 -> [234] at (\d+\.\d) s", scale_up.detail)
    assert late and float(late[1]) >= 0.9, scale_up.detail
    assert "| replicas increase within 0.6 s of the load starting | FAIL |" in report.read_text()
    assert report.read_text().startswith("# Autoscaling verification: FAIL")


async def test_fails_with_a_clear_report_when_a_5xx_appears_while_scaling(tmp_path, fake_hpa):
    async with backend().serve() as server, fake_hpa(server).serve() as hpa:

        async def brown_out() -> None:
            await asyncio.sleep(0.3)
            server.status_override = 503
            await asyncio.sleep(0.1)
            server.status_override = None

        outage = asyncio.create_task(brown_out())
        result, report = await verify(hpa, tmp_path)
        await outage
    errors = result.steps[1]
    assert not errors.passed
    assert re.search(r"^\d+ of \d+ requests failed \(\d+ x HTTP 503\); first at \d+\.\d s", errors.detail), (
        errors.detail
    )
    assert "5xx: 0" not in report.read_text()


async def test_scaler_auth_failure_is_reported_not_hidden(tmp_path, fake_hpa):
    async with backend().serve() as server, fake_hpa(server, token="other").serve() as hpa:
        hpa.kubeconfig(tmp_path / "kubeconfig")
        hpa.token = "rotated"
        scaler = KubernetesHpaScaler(load_kubeconfig(tmp_path / "kubeconfig"), "serving", "llama")
        try:
            await scaler.min_replicas()
        except Exception as exc:  # noqa: BLE001 - the message is what is checked
            message = str(exc)
        finally:
            await scaler.close()
    assert "HTTP 401" in message and "horizontalpodautoscalers/llama" in message


class QuickScaler:
    """An autoscaler that reacts to the first request at once, read through an API slower than that (20 ms)."""

    description = "quick"

    def __init__(self, target: CountingTarget) -> None:
        self.target = target

    async def min_replicas(self) -> int:
        return 1

    async def replicas(self) -> ReplicaCounts:
        await asyncio.sleep(0.02)
        return ReplicaCounts(4, 4) if self.target.sent else ReplicaCounts(1, 1)

    async def events(self, since: datetime) -> list[ScalingEvent]:
        return []

    async def close(self) -> None:
        pass


class CountingTarget:
    description = "counting"

    def __init__(self) -> None:
        self.sent = 0

    async def send(self) -> tuple[int, str]:
        self.sent += 1
        await asyncio.sleep(0.01)
        return 200, ""

    async def close(self) -> None:
        pass


async def test_the_replicas_are_read_before_the_load_starts():
    """An autoscaler faster than the first read is still seen to scale up: the first sample precedes the load."""
    target = CountingTarget()
    plan = VerifyPlan(
        concurrency=2, load_duration_seconds=0.1, scale_down_within_seconds=0.1, sample_interval_seconds=0.02
    )
    result = await run_verification(target, QuickScaler(target), plan)
    # Read before the first request (the quick scaler says 4 once one is sent), and ordered before the rise: an
    # order of events, not a wall-time bound a busy machine could break.
    first, rose = result.samples[0], next(s for s in result.samples if s.desired > 1)
    assert first.desired == 1 and first.at_seconds < rose.at_seconds
    assert result.steps[0].passed, result.steps[0].detail


def at(seconds: float, desired: int, current: int) -> ReplicaSample:
    return ReplicaSample(seconds, desired, current)


def test_scale_down_judgement_needs_both_desired_and_serving_at_the_minimum():
    plan = VerifyPlan(scale_down_within_seconds=300)
    samples = [at(0, 2, 2), at(30, 6, 2), at(60, 6, 6), at(100, 2, 6), at(300, 2, 2)]
    assert judge_scale_down(samples, 2, 60, plan).detail == "at the minimum 240.0 s after the load stopped"
    assert judge_scale_down(samples, 2, 60, plan).passed
    late = judge_scale_down(samples[:-1], 2, 60, plan)
    assert not late.passed and late.detail.startswith("still desired 2, serving 6")


def test_scale_up_judgement_reports_when_replicas_became_ready():
    plan = VerifyPlan()
    step = judge_scale_up([at(0, 2, 2), at(20, 5, 2), at(150, 5, 5)], plan)
    assert step.passed
    assert step.detail == "desired 2 -> 5 at 20.0 s; serving replicas rose at 150.0 s"
    assert not judge_scale_up([at(0, 2, 2), at(90, 2, 2)], plan).passed


def test_dropped_connections_and_stream_errors_count_as_failures():
    records = [
        RequestRecord(1, 0.1, 200),
        RequestRecord(2, 0.1, NO_RESPONSE, "ServerDisconnectedError: gone"),
        RequestRecord(3, 0.1, 200, "stream ended with an error event"),
        RequestRecord(4, 0.1, 429),
        RequestRecord(90, 0.1, 503),  # after the load window: not part of this step
    ]
    step = judge_no_server_errors(records, load_ended_at_seconds=60)
    assert not step.passed
    assert step.detail.startswith("2 of 4 requests failed (1 x ServerDisconnectedError, 1 x stream ended")


def test_timeline_buckets_mean_open_requests_latency_and_status():
    from llama_infra.verify.procedure import VerificationResult
    from llama_infra.verify.report import timeline

    plan = VerifyPlan(sample_interval_seconds=1)
    requests = [RequestRecord(0.0, 0.5, 200), RequestRecord(0.5, 0.25, 200), RequestRecord(0.0, 2.0, 503)]
    result = VerificationResult(
        plan=plan,
        target="t",
        scaler="s",
        started_at=datetime.now(UTC),
        min_replicas=1,
        load_ended_at_seconds=2.0,
        finished_at_seconds=2.0,
        samples=[],
        requests=requests,
        events=[],
    )
    series = timeline(result)
    assert list(series["open_requests"]) == [1.75, 1.0]  # 0.5 + 0.25 of one worker, plus one long request
    assert list(series["status_2xx"]) == [2.0, 0.0]
    assert list(series["status_5xx"]) == [0.0, 1.0]
    assert list(series["latency_p50_seconds"]) == [0.375, 2.0]
