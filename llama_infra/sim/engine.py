"""Time-stepped discrete-event model of serving pools under a scaling policy.

Per step of `dt_s` seconds: replicas become ready, receive spot notices and retire; sequences that finished free
their slots and KV cache; new arrivals are routed (overflow to the fallback pool above its queue-depth threshold);
waiting requests are admitted FIFO while sequences and KV cache allow; each admitted request's TTFT is its wait +
prefill queueing on the pool's aggregate prefill server (Lindley recursion, vectorised) + its own prefill, and its
decode speed is the per-user rate at the batch it joins. The policy acts on its own control period.

Requests are processed with numpy in per-step batches; the Python loop runs once per step, so a week at 1 s steps
is ~600k iterations.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

import numpy as np

from llama_infra import target_facts
from llama_infra.capacity_plan import Config, changes_model, day_config, window_config, window_of
from llama_infra.pricing import is_commitment, is_savings_plan, savings_plan_hour_usd
from llama_infra.sim.capacity import SPOT_NOTICE_S, Assumptions, perf_for, startup_s, usd_per_replica_hour
from llama_infra.sim.replica_model import REQUEST_OVERHEAD_S, ReplicaPerf, running_context_tokens

if TYPE_CHECKING:
    from llama_infra.sim.policies import Policy
    from llama_infra.sim.workload import Workload
    from llama_infra.spec import DeploymentSpec

DRAIN_S = 30.0  # a replica asked to go finishes its streams (preStop) for this long before it stops billing
SERIES_STEP_S = 60.0
PROGRESS_STEPS = 4096  # how often `Simulation.run` reports progress


@dataclass
class Replica:
    config: Config
    perf: ReplicaPerf
    capacity: str  # reserved | on-demand | capacity-block | spot
    role: str  # baseline | burst | fallback
    launched_at: float
    ready_at: float
    usd_per_hour: float
    notice_at: float = math.inf
    retire_at: float = math.inf
    draining: bool = False
    replaces: Replica | None = None  # a spot replica starting to take this on-demand fallback's place
    replacement: Replica | None = None  # on an on-demand fallback: the spot replica starting to replace it
    reclaimed: bool = False  # its spot node was interrupted: the node goes with it

    def ready(self, t: float) -> bool:
        return self.ready_at <= t and not self.draining


@dataclass
class Observation:
    """What a control plane can see at a control tick."""

    now: float
    queue_depth: float  # waiting requests (not yet admitted), vllm:num_requests_waiting summed
    running: float  # sequences in flight, vllm:num_requests_running summed
    replicas: int  # replicas of the configuration in force, ready or starting (the scaler's current count)
    ready_replicas: int
    arrivals_since_last: int
    seconds_since_last: float
    kv_cache_fraction: float


@dataclass
class PoolStats:
    replica_hours: dict[str, float] = field(default_factory=dict)
    cost_usd: dict[str, float] = field(default_factory=dict)
    interruptions: int = 0
    interrupted_streams: int = 0
    on_demand_fallbacks: int = 0
    empty_nodes_reused: int = 0  # burst launches that took an emptied node still waiting for its removal


class Pool:
    """Replicas of one deployment (primary or fallback model) and their request queue."""

    def __init__(self, sim: Simulation, name: str):
        self.sim = sim
        self.name = name
        self.replicas: list[Replica] = []
        self.retired: list[Replica] = []
        # burst replicas gone whose emptied node still runs (`Target.empty_node_s`), with when the node goes
        self.empty_nodes: list[tuple[float, Replica]] = []
        self.queue = np.empty(0, dtype=np.int64)
        self.running = 0.0
        self.kv_used = 0.0
        self.backlog_s = 0.0  # prefill work ahead, in seconds of the pool's aggregate prefill server
        n = sim.n_steps + 2
        self.finish_count = np.zeros(n)
        self.finish_kv = np.zeros(n)
        self.stats = PoolStats()
        self.config: Config | None = None
        self._cap: tuple | None = None
        self._next_event = -math.inf

    # ---- replicas -------------------------------------------------------------------------------------------
    def launch(self, t: float, config: Config, role: str, capacity: str, fallback: bool = True) -> Replica:
        """A replica asked for at `t`; a spot launch that finds no capacity falls back to on demand where the policy
        does and `fallback` allows, else returns None (tried again later). A burst replica asked for while an emptied
        node of its type still waits for removal lands on that node (`_take_empty_node`)."""
        sim = self.sim
        node = self._take_empty_node(t, config.instance_type) if role == "burst" and self.empty_nodes else None
        if node is not None:
            # the node's purchase, price and interruption clock, no spot draw; the node is up, the model still loads
            capacity, price, notice_at, provisioning_s = node.capacity, node.usd_per_hour, node.notice_at, 0.0
        else:
            interruptible = capacity == "spot" and sim.policy.interruptible
            if interruptible and sim.rng.random() < sim.assumptions.spot_unavailable_probability:
                if not (sim.policy.on_demand_fallback and fallback):
                    capacity = "none"
                else:
                    capacity = "on-demand"
                    self.stats.on_demand_fallbacks += 1
            if capacity == "none":
                return None  # type: ignore[return-value]  # no spot and no fallback: try again next tick
            if is_commitment(capacity) and config.instance_type != sim.spec.capacity.baseline.instance_type:
                # the commitment is on the baseline's type: a window's other type is extra (on demand; the oracle's
                # at its cheapest price, as it priced them when it chose the type)
                capacity = sim.policy.uncommitted_capacity
            # a committed replica is paid for by the commitment (`Simulation.bill_commitment`)
            price = (
                0.0
                if is_commitment(capacity)
                else usd_per_replica_hour(
                    config.instance_type, sim.spec.target, sim.policy.price_capacity(capacity), sim.tp_degree
                )
            )
            notice_at = math.inf
            if interruptible and sim.assumptions.spot_interruptions_per_hour > 0:
                notice_at = t + sim.rng.exponential(3600.0 / sim.assumptions.spot_interruptions_per_hour)
            provisioning_s = sim.assumptions.provisioning_s
        delay = startup_s(config, provisioning_s, sim.nvme_preload) if sim.policy.startup_delay else 0.0
        perf = perf_for(config, sim.tp_degree, sim.context_tokens)
        r = Replica(config, perf, capacity, role, t, t + delay, price, notice_at=notice_at)
        self.replicas.append(r)
        self._cap = None
        self._next_event = -math.inf
        return r

    def _take_empty_node(self, t: float, instance_type: str) -> Replica | None:
        """The last replica of the emptied node of `instance_type` that has waited longest and may still take a pod
        (not removed, no spot notice), billed until now and no longer waiting; None if there is none. A pending pod
        binds to such a node before Karpenter launches one (kube-scheduler places pods on nodes that fit first).
        Nodes removed by now are billed to their removal on the way."""
        sim = self.sim
        for until, old in self.empty_nodes:
            if until <= t:
                self._bill(old, min(until, sim.n_steps * sim.dt))
        self.empty_nodes = [(until, old) for until, old in self.empty_nodes if until > t]
        waiting = [
            i
            for i, (_, old) in enumerate(self.empty_nodes)
            if old.config.instance_type == instance_type and old.notice_at > t
        ]
        if not waiting:
            return None
        _, old = self.empty_nodes.pop(min(waiting, key=lambda i: self.empty_nodes[i][0]))
        self._bill(old, t)
        self.stats.empty_nodes_reused += 1
        return old

    def retire(self, r: Replica, t: float) -> None:
        if r.replacement is not None:  # the fallback goes: its replacement has nothing left to replace
            pending, r.replacement = r.replacement, None
            pending.replaces = None
            self.retire(pending, t)
        r.draining = True
        drain = DRAIN_S if r.ready_at <= t and self.sim.policy.startup_delay else 0.0
        r.retire_at = min(r.retire_at, t + drain)
        self._cap = None
        self._next_event = -math.inf

    def switch(self, config: Config) -> None:
        """The configuration in force changes. Where the switch scales the same workload
        (`TargetFacts.window_switch_replaces_fleet` False: EKS) and the window changes only the bounds
        (`capacity_plan.changes_model`), the replicas keep running under it; otherwise (SageMaker switches the
        endpoint's configuration, blue/green; an EKS window on another type or model runs its own Deployment) they
        are handed over in `advance`, new ones first."""
        keeps = not target_facts.of(self.sim.spec.target).window_switch_replaces_fleet
        if self.config is not None and keeps and not changes_model(config, self.config):
            for r in self.replicas:
                if r.config == self.config:
                    r.config = config
        self.config = config
        self._cap = None
        self._next_event = -math.inf

    def current(self) -> list[Replica]:
        """Replicas of the configuration in force that are not leaving (a replacement still starting is counted as
        the fallback it replaces, not beside it)."""
        return [r for r in self.replicas if not r.draining and r.config == self.config and r.replaces is None]

    def replace_fallbacks(self, t: float) -> None:
        """SkyServe's dynamic on-demand fallback (`Policy.replaces_on_demand_fallbacks`): it keeps asking for spot
        for every replica it wants, and runs on-demand ones only for the spot replicas not yet ready. So each
        on-demand burst replica gets a spot replacement, asked for at every control tick until spot capacity is
        found; when the replacement is ready, the on-demand one leaves."""
        for r in self.current():
            if r.capacity != "on-demand" or r.role != "burst" or r.replacement is not None:
                continue
            s = self.launch(t, r.config, r.role, "spot", fallback=False)
            if s is not None:
                s.replaces, r.replacement = r, s

    def reconcile(self, t: float, desired: int, baseline_count: int) -> None:
        if self.sim.policy.replaces_on_demand_fallbacks:
            self.replace_fallbacks(t)
        cur = self.current()
        if desired > len(cur):
            assert self.config is not None, "the pool's configuration is set before it grows"
            n_base = sum(1 for r in cur if r.role == "baseline")
            for _ in range(desired - len(cur)):
                if n_base < baseline_count:
                    self.launch(t, self.config, "baseline", self.sim.policy.baseline_capacity)
                    n_base += 1
                else:
                    self.launch(t, self.config, "burst", self.sim.policy.burst_capacity)
        elif desired < len(cur):
            # Which replicas leave: as Kubernetes' ReplicaSet controller picks the pods of a scaled-down Deployment
            # (`ActivePodsWithRanks`, pkg/controller/controller_utils.go): not yet ready before ready, then the lower
            # pod-deletion-cost, then the most recently ready, then the newest (Karpenter then removes the empty
            # node). The purchase option plays a part only where the policy's pods carry a deletion cost by it
            # (`retires_on_demand_first`: `targets.kubernetes.scale_in_order`). The baseline is its own Deployment
            # (on SageMaker the instances the commitment pays for), so it leaves last.
            by_cost = self.sim.policy.retires_on_demand_first
            order = sorted(
                cur,
                key=lambda r: (
                    r.ready_at <= t,
                    r.role == "baseline",
                    by_cost and r.capacity != "on-demand",
                    -r.ready_at,
                    -r.launched_at,
                ),
            )
            for r in order[: len(cur) - desired]:
                self.retire(r, t)

    def next_event(self, t: float) -> float:
        """Earliest time after `t` at which `advance` has something to do."""
        cfg = self.config
        if any(r.config is not cfg and r.config != cfg and not r.draining for r in self.replicas):
            return -math.inf  # a hand-over is pending: check every step
        return min(
            (x for r in self.replicas for x in (r.ready_at, r.notice_at, r.retire_at) if x > t), default=math.inf
        )

    def advance(self, t: float) -> None:
        """Spot notices, retirements and the hand-over after a configuration change."""
        if t < self._next_event:
            return
        self._advance(t)
        self._next_event = self.next_event(t)

    def _advance(self, t: float) -> None:
        for r in self.replicas:
            if r.replaces is not None and r.ready_at <= t and not r.draining:
                old_fallback, r.replaces = r.replaces, None
                old_fallback.replacement = None
                self.retire(old_fallback, t)  # the spot replacement is ready: the on-demand fallback leaves
            if r.notice_at <= t and not r.draining:
                self.stats.interruptions += 1
                r.reclaimed = True
                if r.replaces is not None:  # a replacement still starting: the fallback stays, asked again
                    r.replaces.replacement, r.replaces = None, None
                    self.retire(r, t)  # not ready: it stops at once
                    continue
                r.draining = True
                r.retire_at = r.notice_at + SPOT_NOTICE_S
                k_end = min(self.sim.n_steps + 1, int((r.retire_at) / self.sim.dt))
                n_ready = max(1, sum(1 for x in self.replicas if x.ready_at <= t))
                self.stats.interrupted_streams += int(self.finish_count[k_end:].sum() / n_ready)
                if r.config == self.config:  # replace at once (Karpenter/node group launch on the notice)
                    self.launch(t, r.config, r.role, "spot")
        if self.config is not None:
            old = [r for r in self.replicas if r.config != self.config and not r.draining]
            if old:
                ready_new = sum(1 for r in self.current() if r.ready_at <= t)
                if ready_new >= min(len(self.current()), len(old)) or not self.current():
                    for r in old:
                        self.retire(r, t)
        gone = [r for r in self.replicas if r.retire_at <= t]
        if gone:
            for r in gone:
                # a burst replica's emptied node runs on until the target removes it (`Target.empty_node_s`),
                # billed when it goes or a new burst pod takes it (`_take_empty_node`); a reclaimed node is gone
                linger = 0.0 if r.role != "burst" or r.reclaimed else self.sim.policy.empty_node_s.get(r.capacity, 0.0)
                if linger > 0:  # a spot notice while it waits ends it two minutes later
                    self.empty_nodes.append((min(r.retire_at + linger, r.notice_at + SPOT_NOTICE_S), r))
                else:
                    self._bill(r, min(r.retire_at, self.sim.n_steps * self.sim.dt))
            self.retired.extend(gone)
            self.replicas = [r for r in self.replicas if r.retire_at > t]
        self._cap = None

    def _bill(self, r: Replica, end: float) -> None:
        sim = self.sim
        hours = max(0.0, end - r.launched_at) / 3600
        key = f"{r.role}/{r.capacity}"
        if sim.plan_usage is not None:  # a Savings Plan: usage at the plan's rate, billed hour by hour at the end
            self.stats.replica_hours[key] = self.stats.replica_hours.get(key, 0.0) + hours
            sim.add_plan_usage(
                r.launched_at,
                end,
                usd_per_replica_hour(r.config.instance_type, sim.spec.target, "reserved", sim.tp_degree),
            )
            return
        if is_commitment(r.capacity):
            return  # inside the commitment, billed whole by `Simulation.bill_commitment`
        self.stats.replica_hours[key] = self.stats.replica_hours.get(key, 0.0) + hours
        self.stats.cost_usd[key] = self.stats.cost_usd.get(key, 0.0) + hours * r.usd_per_hour

    def close(self, end: float) -> None:
        for r in self.replicas:
            self._bill(r, min(end, r.retire_at))
        for until, r in self.empty_nodes:
            self._bill(r, min(end, until))
        self.empty_nodes = []

    # ---- serving --------------------------------------------------------------------------------------------
    def capacity(self, t: float) -> tuple[int, float, float, float, float, float, float]:
        if self._cap is None:
            ready = [r for r in self.replicas if r.ready(t)]
            n = len(ready)
            if n == 0:
                self._cap = (0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
            else:
                self._cap = (
                    n,
                    float(sum(r.perf.max_num_seqs for r in ready)),
                    float(sum(r.perf.kv_cache_tokens for r in ready)),
                    float(sum(r.perf.prefill_tokens_per_s for r in ready)),
                    sum(r.perf.decode_step_s_batch1 for r in ready) / n,
                    float(n),
                    sum(r.perf.decode_s_per_sequence for r in ready) / n,
                )
        return self._cap

    def serve(self, t: float, new: np.ndarray) -> None:
        sim = self.sim
        cand = new if not len(self.queue) else (np.concatenate((self.queue, new)) if len(new) else self.queue)
        if not len(cand):
            self.backlog_s = max(0.0, self.backlog_s - sim.dt)
            return
        n, cap_seqs, cap_kv, rate_sum, step1, _, per_seq = self.capacity(t)
        arr = sim.arrival
        if n:
            need = sim.kv_need[cand]
            free_seqs = int(cap_seqs - self.running)
            free_kv = cap_kv - self.kv_used
            m = min(max(free_seqs, 0), int(np.searchsorted(np.cumsum(need), free_kv, side="right")))
        else:
            m = 0
        adm, self.queue = cand[:m], cand[m:]
        if len(self.queue):
            late = arr[self.queue] < t - sim.assumptions.queue_timeout_s
            if late.any():
                sim.status[self.queue[late]] = -1
                self.queue = self.queue[~late]
        if not m:
            self.backlog_s = max(0.0, self.backlog_s - sim.dt)
            return
        a = arr[adm]
        s = np.maximum(a, t)
        prompt = sim.prompt[adm]
        w = prompt / rate_sum
        # Lindley recursion on the aggregate prefill server, vectorised: work in system just after admission i is
        # V_i = C_i − s_i + max(t + backlog, max_{k≤i}(s_k − C_{k−1})), C the cumulative work.
        c = np.cumsum(w)
        top = np.maximum.accumulate(np.maximum(s - (c - w), t + self.backlog_s))
        in_system = c - s + top
        wait = in_system - w
        self.backlog_s = max(0.0, float(in_system[-1] - (t + sim.dt - s[-1])))
        per_replica_rate = rate_sum / n
        batch = (self.running + m) / n
        step_s = step1 + per_seq * max(batch - 1.0, 0.0)  # ReplicaPerf.decode_step_s, averaged over the replicas
        ttft = (s - a) + wait + prompt / per_replica_rate + step_s + REQUEST_OVERHEAD_S
        out = sim.output[adm]
        finish = a + ttft + out * step_s
        sim.ttft[adm] = ttft
        sim.tps[adm] = 1.0 / step_s
        # a client whose first token takes longer than the time-out has gone: dropped, whatever the server does
        sim.status[adm] = np.where(ttft > sim.assumptions.queue_timeout_s, -1, sim.pool_index[self.name])
        bins = np.minimum((finish / sim.dt).astype(np.int64) + 1, sim.n_steps + 1)
        np.add.at(self.finish_count, bins, 1.0)
        kv = sim.kv_need[adm]
        np.add.at(self.finish_kv, bins, kv)
        self.running += m
        self.kv_used += float(kv.sum())

    def release(self, k: int) -> None:
        c = self.finish_count[k]
        if c:
            self.running -= c
            self.kv_used -= self.finish_kv[k]

    def observation(self, t: float, arrivals: int, seconds: float) -> Observation:
        n, _, cap_kv, rate_sum, *_ = self.capacity(t)
        # vLLM counts a request as waiting until its prefill is scheduled: the prefill backlog is queue too. The
        # pool admits a request into `running` on arrival (its prefill wait is part of its TTFT), so the ones still
        # in the backlog move from running to waiting: every request in the system is counted once
        running = max(self.running, 0.0)
        in_prefill = min(self.backlog_s * rate_sum / self.sim.mean_prompt_tokens, running)
        return Observation(
            t,
            float(len(self.queue)) + in_prefill,
            running - in_prefill,
            len(self.current()),
            n,
            arrivals,
            seconds,
            self.kv_used / cap_kv if cap_kv else 0.0,
        )


class Simulation:
    """One policy on one workload for one spec."""

    def __init__(
        self,
        spec: DeploymentSpec,
        workload: Workload,
        policy: Policy,
        assumptions: Assumptions,
        seed: int,
        dt_s: float = 1.0,
    ):
        self.spec, self.workload, self.policy, self.assumptions = spec, workload, policy, assumptions
        self.dt = dt_s
        self.rng = np.random.default_rng(seed)
        self.n_steps = int(math.ceil(workload.duration_s / dt_s))
        self.arrival = workload.arrival_s
        self.prompt = workload.prompt_tokens.astype(np.float64)
        self.output = workload.output_tokens.astype(np.float64)
        self.kv_need = self.prompt + self.output
        self.mean_prompt_tokens = max(workload.mean_prompt_tokens, 1.0)
        self.context_tokens = running_context_tokens(workload.mean_prompt_tokens, workload.mean_output_tokens)
        n = len(workload)
        self.ttft = np.full(n, np.nan)
        self.tps = np.full(n, np.nan)
        self.status = np.full(n, -1, dtype=np.int8)  # -1 dropped / never served, 0 primary, 1 fallback
        self.pool_index = {"primary": 0, "fallback": 1}
        self.tp_degree = spec.model.tensor_parallel_degree
        self._windows: list[tuple[float, float, Config]] | None = None
        self._day = day_config(spec)
        self.nvme_preload = spec.model.weights.preload == "nvme"
        # SageMaker reserved = a Savings Plan: each hour's usage at the plan's rate, billed against the commitment
        self.plan_usage = np.zeros(int(math.ceil(workload.duration_s / 3600)) + 1) if is_savings_plan(spec) else None
        self.primary = Pool(self, "primary")
        self.fallback = Pool(self, "fallback") if (policy.uses_overflow and spec.fallback) else None
        n_series = int(math.ceil(workload.duration_s / SERIES_STEP_S)) + 1
        self.series = {
            k: np.zeros(n_series)
            for k in ("arrivals", "replicas", "ready", "spot", "queue", "running", "fallback_replicas")
        }

    def config_at(self, t: float) -> Config:
        """The configuration in force (capacity_plan.config_at semantics: the first active window wins), from the
        windows' occurrences over the workload, computed once."""
        if self._windows is None:
            start = self.workload.start
            end = start + timedelta(seconds=self.workload.duration_s + 60)
            self._windows = []
            for sch in self.spec.schedules:
                cfg = window_config(self.spec, sch)
                for begin, finish in window_of(sch).occurrences(start, end):
                    self._windows.append(((begin - start).total_seconds(), (finish - start).total_seconds(), cfg))
        for begin_s, finish_s, cfg in self._windows:
            if begin_s <= t < finish_s:
                return cfg
        return self._day

    def add_plan_usage(self, start: float, end: float, usd_per_hour: float) -> None:
        """Spread one replica's usage at the plan's rate over the hours it ran."""
        usage = self.plan_usage
        assert usage is not None, "plan usage is kept for a Savings Plan only"
        h0, h1 = int(start // 3600), int(math.ceil(end / 3600))
        for h in range(h0, min(h1, len(usage))):
            overlap = min(end, (h + 1) * 3600) - max(start, h * 3600)
            if overlap > 0:
                usage[h] += overlap / 3600 * usd_per_hour

    def bill_commitment(self, end: float) -> None:
        """A commitment is billed for every hour, whether its replicas run or not (`pricing.COMMITTED_PURCHASES`),
        the same for every control plane, the oracle included: a SageMaker Savings Plan as its $/hour commitment
        plus each hour's usage beyond it on-demand; reserved instances as the baseline count around the clock."""
        base = self.spec.capacity.baseline
        if not (base.count and is_commitment(base.purchase)):
            return
        price = usd_per_replica_hour(base.instance_type, self.spec.target, base.purchase, self.tp_degree)
        commitment = base.count * price  # $/hour
        stats = self.primary.stats
        if self.plan_usage is not None:
            hours = end / 3600
            full, part = int(hours), hours - int(hours)
            total = sum(
                savings_plan_hour_usd(commitment * (1 if h < full else part), u)
                for h, u in enumerate(self.plan_usage[: full + (1 if part > 0 else 0)])
            )
            stats.cost_usd["savings-plan/commitment"] = commitment * hours
            stats.cost_usd["savings-plan/beyond (on-demand)"] = total - commitment * hours
            return
        key = f"baseline/{base.purchase}"
        stats.replica_hours[key] = stats.replica_hours.get(key, 0.0) + base.count * end / 3600
        stats.cost_usd[key] = stats.cost_usd.get(key, 0.0) + commitment * end / 3600

    def _fallback_config(self) -> Config:
        fb = self.spec.fallback
        assert fb is not None, "a fallback pool exists only for a spec with a fallback"
        itype = fb.instance_type or self.spec.capacity.baseline.instance_type
        return Config("fallback", itype, fb.model_id, fb.params_b, fb.precision, 1, 1)

    def run(self, progress: Callable[[int], None] | None = None) -> Simulation:
        """Step through the workload; `progress(steps)` is told every `PROGRESS_STEPS` steps (and at the end)."""
        spec, policy, dt = self.spec, self.policy, self.dt
        step_edges = np.searchsorted(self.arrival, np.arange(self.n_steps + 1) * dt)
        pool = self.primary
        next_control, last_control, arrivals_since = 0.0, 0.0, 0
        fb_threshold = spec.fallback.when_queue_depth_over if self.fallback and spec.fallback else math.inf
        if self.fallback:
            self.fallback.config = self._fallback_config()
            self.fallback.launch(0.0, self.fallback.config, "fallback", "on-demand").ready_at = 0.0
        policy.prepare(self)
        next_series = 0
        for k in range(self.n_steps):
            t = k * dt
            if progress is not None and k and not k % PROGRESS_STEPS:
                progress(PROGRESS_STEPS)
            # sequences that finished before t leave first, so a control tick at t does not count them as running
            # (bin k holds the finishes in [t − dt, t): with 5 s steps they inflated the metric by 2.5 s of load)
            pool.release(k)
            if t >= next_control:
                cfg = policy.config_for(self, t)
                if cfg != pool.config:
                    first = pool.config is None
                    pool.switch(cfg)
                    if first:
                        for r in [pool.launch(0.0, cfg, *rc) for rc in policy.initial_replicas(cfg)]:
                            if r is not None:
                                r.ready_at = 0.0  # the simulation starts in steady state
                obs = pool.observation(t, arrivals_since, t - last_control)
                desired = policy.desired(obs, cfg)
                pool.reconcile(t, desired, policy.baseline_count(cfg))
                last_control, arrivals_since = t, 0
                next_control = t + policy.control_period_s
            pool.advance(t)
            lo, hi = step_edges[k], step_edges[k + 1]
            new = np.arange(lo, hi, dtype=np.int64)
            arrivals_since += hi - lo
            if self.fallback is not None:
                self.fallback.advance(t)
                self.fallback.release(k)
                if len(pool.queue) > fb_threshold and len(new):
                    self.fallback.serve(t, new)
                    new = new[:0]
                else:
                    self.fallback.serve(t, new[:0])
            pool.serve(t, new)
            if t >= next_series * SERIES_STEP_S:
                i = next_series
                self.series["replicas"][i] = len(pool.replicas)
                self.series["ready"][i] = sum(1 for r in pool.replicas if r.ready(t))
                self.series["spot"][i] = sum(1 for r in pool.replicas if r.capacity == "spot")
                self.series["queue"][i] = len(pool.queue)
                self.series["running"][i] = pool.running
                if self.fallback is not None:
                    self.series["fallback_replicas"][i] = len(self.fallback.replicas)
                next_series += 1
        if progress is not None:  # the steps not reported in the loop
            progress(self.n_steps - max(0, self.n_steps - 1) // PROGRESS_STEPS * PROGRESS_STEPS)
        end = self.n_steps * dt
        pool.close(end)
        if self.fallback is not None:
            self.fallback.close(end)
        self.bill_commitment(end)
        counts = np.bincount((self.arrival // SERIES_STEP_S).astype(np.int64), minlength=len(self.series["arrivals"]))
        self.series["arrivals"] = counts[: len(self.series["arrivals"])] / SERIES_STEP_S
        return self
