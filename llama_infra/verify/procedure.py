"""The guide's autoscaling verification: load, watch the scaler, judge three steps.

1. replicas increase within `scale_up_within_seconds` of the load starting (the autoscaler's decision: desired
   replicas; when the new replicas became ready is reported alongside),
2. no 5xx (nor dropped connections, timeouts or stream error events) while the load runs and replicas scale up,
3. back to the minimum (desired and serving) within `scale_down_within_seconds` after the load stops.

Every duration is a parameter: the defaults are the guide's (100 concurrent requests for 60 s, 60 s, 5 min);
tests run the same procedure scaled down to seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from llama_infra.verify.load import LoadTarget, RequestRecord, run_load
from llama_infra.verify.scaler import Scaler, ScalerError, ScalingEvent


class VerifyPlan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    concurrency: int = Field(100, ge=1, le=10_000, description="Requests kept open at once.")
    load_duration_seconds: float = Field(60, gt=0)
    scale_up_within_seconds: float = Field(60, gt=0, description="Deadline for desired replicas to rise.")
    scale_down_within_seconds: float = Field(300, gt=0, description="Deadline, after the load, to be at the minimum.")
    sample_interval_seconds: float = Field(5, gt=0, description="How often the scaler is read.")


@dataclass(frozen=True)
class ReplicaSample:
    at_seconds: float
    desired: int
    current: int


@dataclass(frozen=True)
class StepResult:
    name: str
    passed: bool
    detail: str


@dataclass
class VerificationResult:
    plan: VerifyPlan
    target: str
    scaler: str
    started_at: datetime
    min_replicas: int
    load_ended_at_seconds: float
    finished_at_seconds: float
    samples: list[ReplicaSample]
    requests: list[RequestRecord]
    events: list[ScalingEvent]
    steps: list[StepResult] = field(default_factory=list)
    scaler_errors: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(step.passed for step in self.steps)


def judge_scale_up(samples: list[ReplicaSample], plan: VerifyPlan) -> StepResult:
    name = f"replicas increase within {plan.scale_up_within_seconds:g} s of the load starting"
    if not samples:
        return StepResult(name, False, "the scaler could not be read at all")
    start = samples[0].desired
    rose = next((s for s in samples if s.desired > start), None)
    if rose is None:
        return StepResult(name, False, f"desired replicas stayed at {start} for the whole run")
    ready = next((s for s in samples if s.current > samples[0].current), None)
    ready_text = f"; serving replicas rose at {ready.at_seconds:.1f} s" if ready else "; no new replica became ready"
    detail = f"desired {start} -> {rose.desired} at {rose.at_seconds:.1f} s{ready_text}"
    if rose.at_seconds > plan.scale_up_within_seconds:
        return StepResult(name, False, f"too late: {detail}")
    return StepResult(name, True, detail)


def judge_no_server_errors(requests: list[RequestRecord], load_ended_at_seconds: float) -> StepResult:
    name = "no 5xx while scaling up"
    during = [r for r in requests if r.started_at_seconds <= load_ended_at_seconds]
    failed = [r for r in during if r.failed]
    if not during:
        return StepResult(name, False, "no request completed: the endpoint was never reached")
    if not failed:
        return StepResult(name, True, f"{len(during)} requests, none failed")
    kinds = Counter(r.error.split(":")[0] if r.error else f"HTTP {r.status}" for r in failed)
    listed = ", ".join(f"{count} x {kind}" for kind, count in kinds.most_common())
    first = min(failed, key=lambda r: r.started_at_seconds)
    return StepResult(
        name,
        False,
        f"{len(failed)} of {len(during)} requests failed ({listed}); first at {first.started_at_seconds:.1f} s",
    )


def judge_scale_down(
    samples: list[ReplicaSample], min_replicas: int, load_ended_at_seconds: float, plan: VerifyPlan
) -> StepResult:
    name = f"back to the minimum ({min_replicas}) within {plan.scale_down_within_seconds:g} s after the load"
    after = [s for s in samples if s.at_seconds >= load_ended_at_seconds]
    back = next((s for s in after if s.desired <= min_replicas and s.current <= min_replicas), None)
    if back is None:
        last = after[-1] if after else (samples[-1] if samples else None)
        where = f"still desired {last.desired}, serving {last.current}" if last else "scaler never read"
        return StepResult(name, False, f"{where} {plan.scale_down_within_seconds:g} s after the load stopped")
    took = back.at_seconds - load_ended_at_seconds
    passed = took <= plan.scale_down_within_seconds
    return StepResult(name, passed, f"at the minimum {took:.1f} s after the load stopped")


async def run_verification(
    target: LoadTarget, scaler: Scaler, plan: VerifyPlan, clock: Callable[[], float] = time.monotonic
) -> VerificationResult:
    """Run the procedure once. Bounded: load window + scale-down deadline + one sample interval.

    `clock` (seconds) times the load window, stamps the samples and the requests, and decides the deadlines: the
    monotonic wall clock against a real cluster; a test passes the clock of the fake cluster it runs beside, so that a
    busy machine slows the procedure and the fake controller alike instead of making scaling look late."""
    min_replicas = await scaler.min_replicas()
    started_at = datetime.now(UTC)
    origin = clock()
    samples: list[ReplicaSample] = []
    errors: list[str] = []

    async def sample() -> None:
        try:
            counts = await scaler.replicas()
            samples.append(ReplicaSample(clock() - origin, counts.desired, counts.current))
        except ScalerError as exc:
            errors.append(f"{clock() - origin:.1f} s: {exc}")

    async def sample_forever() -> None:
        while True:
            await asyncio.sleep(plan.sample_interval_seconds)
            await sample()

    # The replicas before any load: the first sample must not race the load (an autoscaler that reacts before a
    # slow first read would look as if it had never scaled).
    await sample()
    sampler = asyncio.create_task(sample_forever())
    try:
        requests = await run_load(target, plan.concurrency, plan.load_duration_seconds, origin, clock)
        load_ended = clock() - origin
        deadline = load_ended + plan.scale_down_within_seconds + plan.sample_interval_seconds
        while clock() - origin < deadline:
            latest = samples[-1] if samples else None
            if latest and latest.at_seconds >= load_ended and max(latest.desired, latest.current) <= min_replicas:
                break
            await asyncio.sleep(min(plan.sample_interval_seconds, 1.0))
    finally:
        sampler.cancel()
        await asyncio.gather(sampler, return_exceptions=True)
    try:
        events = await scaler.events(started_at)
    except ScalerError as exc:
        events = []
        errors.append(f"events: {exc}")
    result = VerificationResult(
        plan=plan,
        target=target.description,
        scaler=scaler.description,
        started_at=started_at,
        min_replicas=min_replicas,
        load_ended_at_seconds=load_ended,
        finished_at_seconds=clock() - origin,
        samples=samples,
        requests=requests,
        events=events,
        scaler_errors=errors,
    )
    result.steps = [
        judge_scale_up(samples, plan),
        judge_no_server_errors(requests, load_ended),
        judge_scale_down(samples, min_replicas, load_ended, plan),
    ]
    return result
