"""The control planes compared in one run, all on the spec's target, instance types, prices and purchase options
(a reserved baseline is billed around the clock for every one of them, `Simulation.bill_commitment`).

Each class here is one entry of `llama_infra.sim.policy_registry.POLICIES` (its name, role and one-line help live
there, and `Policy.name` is read from it); each class's docstring says what it models and from which source.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import UTC
from typing import TYPE_CHECKING

import numpy as np

from llama_infra import pricing, target_facts
from llama_infra.capacity_plan import WEEK_START, Config, day_config
from llama_infra.pricing import is_commitment, is_savings_plan
from llama_infra.scaling.hpa import HpaController, HpaPolicy, external_average_value_replicas
from llama_infra.scaling.target_tracking import (
    TargetTrackingController,
    TargetTrackingPolicy,
    WakeOnNoCapacity,
    per_container_average,
)
from llama_infra.sim.capacity import (
    ORACLE_EPSILON,
    interval_replicas,
    perf_for,
    saturation_rps,
    startup_s,
    usd_per_replica_hour,
)
from llama_infra.sim.keda_view import HeldQueue, scaled_deployments
from llama_infra.sim.policy_registry import FROM_REGISTRY, registered_class
from llama_infra.sim.replica_model import running_context_tokens

if TYPE_CHECKING:
    from llama_infra.sim.engine import Observation, Simulation
    from llama_infra.spec import DeploymentSpec


def burst_capacity_of(spec: DeploymentSpec) -> pricing.Capacity:
    return "spot" if target_facts.of(spec.target).spot_burst and spec.capacity.burst.capacity == "spot" else "on-demand"


def max_rps_per_replica(spec: DeploymentSpec, config: Config, mean_prompt: float, mean_output: float) -> float:
    """The saturation rate a load test of one replica would report (peers set their targets from it)."""
    perf = perf_for(config, spec.model.tensor_parallel_degree, running_context_tokens(mean_prompt, mean_output))
    return saturation_rps(perf, mean_prompt, mean_output, spec.slo.tokens_per_s_per_user)


def oracle_need(
    spec: DeploymentSpec,
    workload,
    interval_s: float,
    options: list[list[Config]],
    price_of=None,
    epsilon: float = ORACLE_EPSILON,
    free_of=None,
) -> tuple[np.ndarray, list[Config]]:
    """Per interval, the cheapest (configuration, replicas) among `options[i]` whose SLO attainment on that
    interval's requests is within `epsilon` of the best attainable by any of the options on unlimited capacity;
    replicas are not capped by max_replicas (see `interval_replicas`).

    Epsilon is a run-wide budget of whole requests: an interval may miss up to max(1, epsilon × its requests)
    more than its ceiling, but only as many as epsilon × all requests so far leaves unspent — so a quiet interval
    can miss one request instead of demanding a replica per request, and the whole run stays within epsilon."""
    w = workload
    n_int = len(options)
    edges = np.searchsorted(w.arrival_s, np.arange(n_int + 1) * interval_s)
    need = np.zeros(n_int, dtype=np.int64)
    chosen: list[Config] = []
    prompt = w.prompt_tokens.astype(np.float64)
    output = w.output_tokens.astype(np.float64)
    tp = spec.model.tensor_parallel_degree
    context = running_context_tokens(float(prompt.mean()), float(output.mean())) if len(prompt) else 1.0
    price_of = price_of or (lambda cfg: 1.0)
    free_of = free_of or (lambda cfg: 0)  # replicas already paid for (a commitment on that instance type)
    backlog = 0.0
    earned = spent = 0.0
    for i in range(n_int):
        lo, hi = edges[i], edges[i + 1]
        k = max(int(hi - lo), 1)
        earned += epsilon * (hi - lo)
        allowed = max(0, min(max(1, math.floor(epsilon * k)), math.floor(earned - spent + 1e-9)))
        choices = [
            (
                cfg,
                interval_replicas(
                    w.arrival_s[lo:hi],
                    prompt[lo:hi],
                    output[lo:hi],
                    i * interval_s,
                    interval_s,
                    perf_for(cfg, tp, context),
                    spec.slo.ttft_p99_ms / 1000,
                    spec.slo.tokens_per_s_per_user,
                    backlog,
                    epsilon,
                    allowed_misses=allowed,
                ),
            )
            for cfg in options[i]
        ]
        best_ceiling = max(c.ceiling for _, c in choices)
        floor_share = best_ceiling - allowed / k - 1e-12
        eligible = [(cfg, c) for cfg, c in choices if c.attainment >= floor_share]
        if eligible:
            cfg, c = min(
                eligible, key=lambda e: (max(0, e[1].replicas - free_of(e[0])) * price_of(e[0]), e[1].replicas)
            )
        else:  # the search limit was hit: the best attainment there is
            cfg, c = max(choices, key=lambda e: e[1].attainment)
        spent += max(0, round((best_ceiling - c.attainment) * (hi - lo)))
        backlog = c.backlog_tokens
        need[i] = max(c.replicas, 1) if backlog > 0 else c.replicas
        chosen.append(cfg)
    return need, chosen


@dataclass
class Policy:
    """A control plane: `desired(obs, cfg)` replicas every `control_period_s`; subclasses are registered in
    `policy_registry.POLICIES`, which gives them their `name` (they pass FROM_REGISTRY)."""

    name: str  # FROM_REGISTRY for a registered class; an unregistered one (a test's, an experiment's) names itself
    description: str
    control_period_s: float
    uses_schedules: bool = False
    uses_overflow: bool = False
    startup_delay: bool = True
    interruptible: bool = True
    on_demand_fallback: bool = True
    baseline_capacity: str = "on-demand"
    burst_capacity: str = "on-demand"
    uncommitted_capacity: str = "on-demand"  # a baseline replica on a type the commitment does not cover
    retires_on_demand_first: bool = False  # scale-in removes on-demand replicas before spot ones (`Pool.reconcile`)
    replaces_on_demand_fallbacks: bool = False  # on-demand fallbacks last until spot replaces them (SkyServe)
    # by purchase: a burst replica's node stays, billed, this long after it leaves (`Pool._take_empty_node`)
    empty_node_s: dict[str, float] = field(default_factory=dict)
    spec: DeploymentSpec = field(init=False, repr=False)  # set by prepare()

    def __post_init__(self) -> None:
        if self.name == FROM_REGISTRY:
            self.name = registered_class(type(self).__name__).name

    def prepare(self, sim: Simulation) -> None:
        """Every control plane runs on the spec's purchase options: its first baseline-count replicas on the
        baseline's purchase (a reserved baseline is billed around the clock anyway, `Simulation.bill_commitment`)."""
        self.spec = sim.spec
        self.baseline_capacity = sim.spec.capacity.baseline.purchase

    def baseline_count(self, cfg: Config) -> int:
        base = self.spec.capacity.baseline.count
        return base if cfg.window is None else min(base, cfg.min_replicas)

    def config_for(self, sim: Simulation, t: float) -> Config:
        """The serving configuration this control plane runs at `t` (schedules only if it implements them)."""
        return sim.config_at(t) if self.uses_schedules else day_config(self.spec)

    def initial_replicas(self, cfg: Config) -> list[tuple[str, str]]:
        n, base = self.initial_count(cfg), self.baseline_count(cfg)
        return [("baseline", self.baseline_capacity) if i < base else ("burst", self.burst_capacity) for i in range(n)]

    def initial_count(self, cfg: Config) -> int:
        return cfg.min_replicas

    def price_capacity(self, capacity: str) -> pricing.Capacity:
        return capacity  # type: ignore[return-value]

    def desired(self, obs: Observation, cfg: Config) -> int:
        raise NotImplementedError

    @staticmethod
    def clamp(n: int, cfg: Config) -> int:
        return min(max(n, cfg.min_replicas), cfg.max_replicas)


class StaticPeak(Policy):
    """A fixed fleet sized (with foresight) for the busiest 5 minutes of the workload, day configuration."""

    def __init__(self) -> None:
        super().__init__(FROM_REGISTRY, "fixed fleet sized for the busiest 5 minutes (closed form)", math.inf)
        self.count = 1

    def prepare(self, sim: Simulation) -> None:
        super().prepare(sim)
        spec, w = sim.spec, sim.workload
        self.baseline_capacity = spec.capacity.baseline.purchase
        cfg = replace(day_config(spec), max_replicas=10_000)  # sized for the peak, not capped by the spec
        need, _ = oracle_need(spec, w, 300.0, [[cfg]] * (int(w.duration_s // 300) + 2))
        self.count = max(int(need.max()), spec.min_replicas, 1)
        self.description = (
            f"fixed {self.count} replicas: the least that serve the busiest 5 minutes within the "
            "SLO (perfect foresight)"
        )

    def initial_count(self, cfg: Config) -> int:
        return self.count

    def desired(self, obs: Observation, cfg: Config) -> int:
        return self.count


class SageMakerInvocations(Policy):
    """SageMaker's default, target tracking on InvocationsPerInstance (60 s metric) with the target its docs
    recommend: max RPS per instance × 0.5 safety factor × 60 ("Load testing your auto scaling configuration",
    SageMaker developer guide)."""

    def __init__(self) -> None:
        super().__init__(FROM_REGISTRY, "", 60.0)

    def prepare(self, sim: Simulation) -> None:
        super().prepare(sim)
        spec, w = sim.spec, sim.workload
        self.baseline_capacity = spec.capacity.baseline.purchase
        rps = max_rps_per_replica(spec, day_config(spec), w.mean_prompt_tokens, w.mean_output_tokens)
        target = rps * 0.5 * 60
        self.controller = TargetTrackingController(
            TargetTrackingPolicy.invocations_per_instance(target, max(1, spec.min_replicas), spec.max_replicas)
        )
        self.description = (
            f"target tracking on InvocationsPerInstance = {target:.1f}/min (max {rps:.2f} req/s "
            "per instance × 0.5 × 60), 60 s metric, 300 s cooldowns"
        )

    def desired(self, obs: Observation, cfg: Config) -> int:
        per_instance = obs.arrivals_since_last / max(obs.replicas, 1) * 60 / max(obs.seconds_since_last, 1.0)
        return self.clamp(self.controller.evaluate(obs.now, obs.replicas, per_instance, obs.ready_replicas), cfg)


class SkyServeQps(Policy):
    """SkyServe's RequestRateAutoscaler: ceil(QPS over 60 s ÷ target_qps_per_replica), decided every 20 s, applied
    after 300 s (up) / 1200 s (down) of agreement (sky/serve/constants.py defaults); spot with on-demand fallback
    where the target has spot, as its `dynamic_ondemand_fallback` runs it (FallbackRequestRateAutoscaler,
    sky/serve/autoscalers.py): it asks for spot for every replica it wants and runs on demand only
    target − ready spot, so an on-demand replica lasts until a spot replica is ready in its place, and goes first
    when the target falls."""

    DECISION_INTERVAL_S = 20.0
    QPS_WINDOW_S = 60.0
    UPSCALE_DELAY_S = 300.0
    DOWNSCALE_DELAY_S = 1200.0

    def __init__(self) -> None:
        super().__init__(FROM_REGISTRY, "", self.DECISION_INTERVAL_S)
        self.window: deque[tuple[float, int]] = deque()
        self.up = self.down = 0

    def prepare(self, sim: Simulation) -> None:
        super().prepare(sim)
        spec, w = sim.spec, sim.workload
        self.burst_capacity = burst_capacity_of(spec)
        self.replaces_on_demand_fallbacks = self.retires_on_demand_first = self.burst_capacity == "spot"
        # ASSUMPTION: users set target_qps_per_replica to 60 % of the saturation rate they measured
        self.target_qps = 0.6 * max_rps_per_replica(spec, day_config(spec), w.mean_prompt_tokens, w.mean_output_tokens)
        self.description = (
            f"ceil(QPS/{self.target_qps:.2f}) every 20 s, after 300 s up / 1200 s down, "
            f"{self.burst_capacity}{' with on-demand fallback' if self.burst_capacity == 'spot' else ''}"
        )

    def desired(self, obs: Observation, cfg: Config) -> int:
        self.window.append((obs.now, obs.arrivals_since_last))
        while self.window and self.window[0][0] <= obs.now - self.QPS_WINDOW_S:
            self.window.popleft()
        qps = sum(n for _, n in self.window) / self.QPS_WINDOW_S
        target = self.clamp(math.ceil(qps / self.target_qps - 1e-9), cfg)
        if target > obs.replicas:
            self.up, self.down = self.up + 1, 0
            if self.up >= self.UPSCALE_DELAY_S / self.DECISION_INTERVAL_S:
                self.up = 0
                return target
        elif target < obs.replicas:
            self.up, self.down = 0, self.down + 1
            if self.down >= self.DOWNSCALE_DELAY_S / self.DECISION_INTERVAL_S:
                self.down = 0
                return target
        else:
            self.up = self.down = 0
        return self.clamp(obs.replicas, cfg)


class HpaRunning(Policy):
    """ai-on-eks style HPA on vllm:num_requests_running per replica (default HPA behaviour), target = 80 % of the
    batch at which users still get the SLO's tokens/s."""

    def __init__(self) -> None:
        super().__init__(FROM_REGISTRY, "", 15.0)

    def prepare(self, sim: Simulation) -> None:
        super().prepare(sim)
        spec = sim.spec
        self.burst_capacity = burst_capacity_of(spec)
        perf = perf_for(day_config(spec), spec.model.tensor_parallel_degree, sim.context_tokens)
        target = max(1.0, 0.8 * perf.max_batch_for_tokens_per_s(spec.slo.tokens_per_s_per_user))
        self.controller = HpaController(HpaPolicy(max(1, spec.min_replicas), spec.max_replicas, target))
        self.description = f"HPA on num_requests_running, {target:.1f} per replica, default behaviour"

    def desired(self, obs: Observation, cfg: Config) -> int:
        if obs.replicas == 0:
            return self.clamp(1, cfg)
        return self.clamp(self.controller.sync(obs.now, obs.replicas, obs.running), cfg)


class SpecPolicy(Policy):
    """What llama-infra deploys, with the targets and the predictive floor the SLO implies (`llama_infra.slo_targets`):
    each configuration's autoscaler runs on its effective targets (the spec's where stated, else derived from the SLO
    envelope), and on weekdays the minimum follows the predictive floor (scheduled min capacity that rises one switch
    time ahead of each ramp of the daily shape). `SpecPolicyWithoutFloor` runs it without the floor, for comparison."""

    use_floor = True

    def __init__(self) -> None:
        super().__init__(FROM_REGISTRY, "", 15.0, uses_schedules=True, uses_overflow=True)

    def prepare(self, sim: Simulation) -> None:
        from llama_infra import targets
        from llama_infra.slo_targets import effective_targets, predictive_floor, with_effective_targets

        super().prepare(sim)
        spec = sim.spec
        workload = getattr(sim, "workload", None)  # None: decisions asked for directly, with no calendar
        self.start = workload.start if workload is not None else WEEK_START.replace(tzinfo=UTC)
        self.targets = effective_targets(spec)
        # the floor the components render (`Target.renders_floor`): none on SageMaker copies that scale to zero or
        # under an EKS HPA, which have no schedule input
        runs_floor = self.use_floor and workload is not None and targets.get(spec.target).renders_floor(spec)
        self.floor = predictive_floor(spec, on=self.start.date()) if runs_floor else []
        # where the rendered floor follows the load (`scaling.floor_follow`), how often it re-reads it
        self.follow_period_s = targets.get(spec.target).floor_follow_period_s(spec) if self.floor else None
        self.follow_steps = bool(self.floor) and targets.get(spec.target).floor_follows_capacity_steps(spec)
        self._seen: deque[tuple[float, int, float]] = deque()  # (now, arrivals, seconds) of the trailing window
        self._followed: tuple[float, int, int] = (-math.inf, -1, 0)  # (when, hour, floor) last worked out
        self.baseline_capacity = spec.capacity.baseline.purchase
        self.burst_capacity = burst_capacity_of(spec)
        self.on_demand_fallback = spec.capacity.burst.on_demand_fallback or self.burst_capacity != "spot"
        self.retires_on_demand_first = targets.get(spec.target).retires_on_demand_first(spec)
        # the nodes the components render, per purchase of the burst
        self.empty_node_s = {c: targets.get(spec.target).empty_node_s(spec, c) for c in ("spot", "on-demand")}
        self.kind = target_facts.of(spec.target).autoscaler or spec.scaling.autoscaler
        day = self.targets[None]
        if self.kind == "target-tracking":
            tt = TargetTrackingPolicy.from_spec(spec)
            # one policy per configuration: the downsizing workflow attaches each configuration's own
            self.controllers = {
                k: TargetTrackingController(replace(tt, target_value=t.queue_depth_target))
                for k, t in self.targets.items()
            }
            self.controller = self.controllers[None]
            self.wake = WakeOnNoCapacity() if tt.min_capacity == 0 else None
            self.control_period_s = float(tt.period_seconds)
            per_config = ", ".join(
                f"{t.configuration} {t.queue_depth_target:g} ({t.queue_depth_target_source})"
                for t in self.targets.values()
            )
            self.description = (
                f"target tracking on {tt.metric} = {per_config}, "
                f"cooldowns {tt.scale_out_cooldown_seconds}/{tt.scale_in_cooldown_seconds} s"
            )
            if self.wake:
                self.description += ", copies scale to 0 and wake on NoCapacityInvocationFailures"
        elif self.kind == "keda":
            # the whole-service queue held over the scale-up stabilization: one series, fed at every tick
            self.held_queue = HeldQueue.of(spec)
            self.keda_objects = scaled_deployments(with_effective_targets(spec), self.held_queue)
            self.description = (
                f"KEDA on queue depth {day.queue_depth_target:g}/replica "
                f"({day.queue_depth_target_source}) scaling the burst Deployment, polling "
                f"{spec.scaling.polling_interval_seconds} s"
            )
        else:
            # the rendered HPA (kube/autoscaling.horizontal_pod_autoscaler) scales the burst Deployment on the queue
            # above the baseline's share; minReplicas >= 1
            lo, hi = (
                max(0, spec.min_replicas - spec.capacity.baseline.count),
                max(0, spec.max_replicas - spec.capacity.baseline.count),
            )
            self.hpa = (
                HpaController(
                    replace(HpaPolicy.from_spec(with_effective_targets(spec)), min_replicas=max(1, lo), max_replicas=hi)
                )
                if hi > 0
                else None
            )
            self.description = (
                f"HPA on queue depth {day.queue_depth_target:g}/replica "
                f"({day.queue_depth_target_source}) scaling the burst Deployment"
            )
        if self.kind != "target-tracking" and day.kv_cache_target is not None:
            self.description += f", KV cache {day.kv_cache_target:g} ({day.kv_cache_target_source})"
        extras = [f"{self.baseline_capacity} baseline", f"{self.burst_capacity} burst"]
        if spec.schedules:
            extras.append("schedules")
        if self.floor:
            from llama_infra.slo_targets import floor_line

            extras.append(f"predictive floor on weekdays {floor_line(self.floor)}")
        if spec.fallback:
            extras.append(f"overflow > {spec.fallback.when_queue_depth_over:g} waiting")
        self.description += "; " + ", ".join(extras)

    def floor_in_force(self, obs: Observation) -> int:
        """The floor in force at this tick: the scheduled one or, where the rendered floor follows the load, followed
        by the rate of the trailing `floor_follow.WINDOW_S` against the hour's forecast (`floor_follow.following_floor`:
        with the hour's capacity steps where the target renders them, `Target.floor_follows_capacity_steps`), worked
        out when the hour's schedule fires and at every tick of the target's reconciler after it."""
        from datetime import timedelta

        from llama_infra.scaling.floor_follow import WINDOW_S, following_floor
        from llama_infra.slo_targets import floor_hour_at

        hour = floor_hour_at(self.spec, self.floor, self.start + timedelta(seconds=obs.now))
        if self.follow_period_s is None:
            return hour.min_replicas if hour else 0
        # the trailing window is kept at every tick, weekends included, so Monday's first hour has its history
        self._seen.append((obs.now, obs.arrivals_since_last, obs.seconds_since_last))
        while self._seen and self._seen[0][0] <= obs.now - WINDOW_S:
            self._seen.popleft()
        if hour is None:
            return 0
        when, last_hour, floor = self._followed
        if hour.hour != last_hour or obs.now >= when + self.follow_period_s:
            seconds = sum(s for _, _, s in self._seen)
            observed_rps = sum(a for _, a, _ in self._seen) / seconds if seconds > 0 else 0.0
            steps = hour.carries_rps if self.follow_steps else ()
            floor = following_floor(hour.min_replicas, observed_rps, hour.forecast_rps, carries_rps=steps)
            self._followed = (obs.now, hour.hour, floor)
        return floor

    def desired(self, obs: Observation, cfg: Config) -> int:
        n = self._desired(obs, cfg)
        lo = self.floor_in_force(obs) if self.floor else 0
        return min(max(n, lo), cfg.max_replicas)

    def _desired(self, obs: Observation, cfg: Config) -> int:
        if self.kind == "target-tracking":
            # ConcurrentRequestsPerModel/PerCopy: published by the serving containers only
            concurrency = per_container_average(obs.running + obs.queue_depth, obs.ready_replicas)
            controller = self.controllers.get(cfg.window, self.controllers[None])
            n = controller.evaluate(obs.now, obs.replicas, concurrency, obs.ready_replicas)
            if self.wake is not None:
                failures = obs.arrivals_since_last if obs.ready_replicas == 0 else 0
                n = self.wake.evaluate(obs.now, n, failures, cfg.max_replicas)
            return self.clamp(n, cfg)
        if self.kind == "keda":
            self.held_queue.record(obs.now, obs.queue_depth)
            scaled = self.keda_objects.get(cfg.window, self.keda_objects.get(None))
            if scaled is None:  # no burst Deployment: the baseline alone
                return self.clamp(self.baseline_count(cfg), cfg)
            n = scaled.desired(obs, cfg.window)
            return min(max(n, 0 if self.spec.scaling.scale_to_zero else cfg.min_replicas), cfg.max_replicas)
        return self.clamp(self._hpa_burst(obs, cfg), cfg)

    def _hpa_burst(self, obs: Observation, cfg: Config) -> int:
        """Baseline + the burst HPA's decision on its External metrics (sum minus the baseline's share)."""
        b = self.baseline_count(cfg)
        if self.hpa is None:
            return b
        p = self.hpa.policy
        burst = max(0, obs.replicas - b)
        if burst == 0:  # the HPA's minReplicas (>= 1) is what the burst Deployment starts with
            return b + p.min_replicas
        queue = max(0.0, obs.queue_depth - b * p.queue_depth_target)

        def recommend() -> int:
            rec = external_average_value_replicas(burst, queue, p.queue_depth_target, p.tolerance)
            if p.gpu_memory_target is not None:
                kv = max(0.0, obs.kv_cache_fraction * obs.ready_replicas - b * p.gpu_memory_target)
                rec = max(rec, external_average_value_replicas(burst, kv, p.gpu_memory_target, p.tolerance))
            return rec

        return b + self.hpa.sync_recommendation(obs.now, burst, recommend)


class SpecPolicyWithoutFloor(SpecPolicy):
    """The spec's own policy without its predictive floor: beside `SpecPolicy`, what the floor buys (the report's
    attainment during ramps, with and without it)."""

    use_floor = False


class Oracle(Policy):
    """A lower bound on the cost of the best achievable quality. Per minute, with perfect foresight, no start-up
    delay, no interruptions, the commitment's replicas (billed anyway) and every other replica at the cheapest hourly
    price the spec allows, the least warm replicas (of the day configuration, the window in force or the day model
    on any burst instance type the spec allows, whichever is cheaper) whose SLO attainment on that minute's requests
    is within `ORACLE_EPSILON` (1 %, a run-wide budget of whole requests) of the attainable ceiling — the best
    attainment of those options on unlimited capacity, where nothing queues (`capacity.interval_replicas`). Prompts
    too long to prefill within the TTFT target miss it at any scale, so "the fewest replicas that meet the SLO" can
    be infeasible for every minute; attainment saturates with replicas, and the oracle stops where it saturates,
    not at max_replicas (nor is it capped by it). So no policy should attain
    more than the oracle minus epsilon, a policy cheaper than the oracle pays for it in attainment, and where the SLO
    is feasible no policy that meets it is cheaper."""

    INTERVAL_S = 60.0

    def __init__(self, epsilon: float = ORACLE_EPSILON) -> None:
        """`epsilon`: the share of requests the oracle may miss beyond the attainable ceiling (a benchmark widens it
        to compare a policy with the oracle at the policy's own attainment)."""
        super().__init__(
            FROM_REGISTRY, "", self.INTERVAL_S, uses_schedules=True, startup_delay=False, interruptible=False
        )
        self.epsilon = epsilon

    def prepare(self, sim: Simulation) -> None:
        super().prepare(sim)
        spec, w = sim.spec, sim.workload
        self.cheapest = self._cheapest_capacity(spec)
        self.burst_capacity = self.uncommitted_capacity = self.cheapest
        base = spec.capacity.baseline
        committed = base.count if is_commitment(base.purchase) else 0
        tp = spec.model.tensor_parallel_degree
        commitment_usd = committed * usd_per_replica_hour(base.instance_type, spec.target, base.purchase, tp)

        def free_of(c: Config) -> int:
            """Replicas of `c` the commitment already pays for: a Savings Plan covers any type up to its $/hour,
            reserved instances only their own type."""
            if is_savings_plan(spec):
                return int(commitment_usd / usd_per_replica_hour(c.instance_type, spec.target, "reserved", tp) + 1e-9)
            return committed if c.instance_type == base.instance_type else 0

        n_int = int(math.ceil(w.duration_s / self.INTERVAL_S)) + 1
        options = self.options(sim, n_int)
        self.need, self.configs = oracle_need(
            spec,
            w,
            self.INTERVAL_S,
            options,
            price_of=lambda c: usd_per_replica_hour(c.instance_type, spec.target, self.cheapest, tp),
            free_of=free_of,
            epsilon=self.epsilon,
        )
        paid = f"the {committed} committed baseline replicas (billed anyway), the rest" if committed else "all"
        self.description = (
            f"perfect foresight per minute: least replicas within {self.epsilon:.0%} of the attainable "
            f"SLO attainment, cheapest of the day and window configurations, no start-up delay; "
            f"{paid} at the {self.cheapest} price"
        )

    def options(self, sim: Simulation, n_int: int) -> list[list[Config]]:
        """Per interval, the configurations to choose from: any the spec runs (day, or a window's) at any time —
        peers keep the day one all night — and the day model on every instance type the spec allows (EKS burst
        pools list several)."""
        day = day_config(sim.spec)
        burst = [replace(day, instance_type=t) for t in sim.spec.burst_instance_types if t != day.instance_type]
        return [
            sorted({day, sim.config_at(i * self.INTERVAL_S), *burst}, key=lambda c: (c.window or "", c.instance_type))
            for i in range(n_int)
        ]

    def _cheapest_capacity(self, spec: DeploymentSpec) -> pricing.Capacity:
        """The cheapest capacity bought by the hour: a commitment is not (it is billed whether it runs or not)."""
        options: set[pricing.Capacity] = {"on-demand", burst_capacity_of(spec)}
        itype = spec.capacity.baseline.instance_type
        return min(
            options, key=lambda c: usd_per_replica_hour(itype, spec.target, c, spec.model.tensor_parallel_degree)
        )

    def config_for(self, sim: Simulation, t: float) -> Config:
        return self.configs[min(int(t // self.INTERVAL_S), len(self.configs) - 1)]

    def initial_count(self, cfg: Config) -> int:
        return int(self.need[0]) if len(self.need) else 0

    def desired(self, obs: Observation, cfg: Config) -> int:
        i = min(int(obs.now // self.INTERVAL_S), len(self.need) - 1)
        return int(self.need[i])


class ColdStartOracle(Oracle):
    """The oracle that still pays the spec's cold starts: perfect foresight, no interruptions, the cheapest price,
    but only the configuration the spec runs at each time (the day one, or the window's) and every replica launched
    one start-up time before the minute that needs it. A replica ready at minute m was launched by m − start-up,
    so at t any policy on these configurations bills at least the most `need` of the minutes whose start-up span
    covers t — which is what this one runs. The least a policy with the spec's configurations and cold starts can
    cost for the oracle's quality: where a cost criterion asks for less, no such policy meets it."""

    def __init__(self, epsilon: float = ORACLE_EPSILON) -> None:
        super().__init__(epsilon)
        self.startup_delay = True

    def options(self, sim: Simulation, n_int: int) -> list[list[Config]]:
        return [[sim.config_at(i * self.INTERVAL_S)] for i in range(n_int)]

    def prepare(self, sim: Simulation) -> None:
        super().prepare(sim)
        n = len(self.need)
        ahead = self.need.copy()
        lead: dict[Config, int] = {}
        for m in range(n):
            c = self.configs[m]
            if c not in lead:
                lead[c] = math.ceil(startup_s(c, sim.assumptions.provisioning_s, sim.nvme_preload) / self.INTERVAL_S)
            lo = max(0, m - lead[c])
            np.maximum(ahead[lo : m + 1], self.need[m], out=ahead[lo : m + 1])
        self.need = ahead
        self.description = (
            f"perfect foresight per minute with the spec's cold starts: replicas launched one start-up time before "
            f"the minute that needs them, the spec's configuration in force, within {self.epsilon:.0%} of the "
            f"attainable SLO attainment, at the {self.cheapest} price"
        )
