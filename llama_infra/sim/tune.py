"""Search every knob that decides SLO and cost (`tune_space`) for the least cost that meets the SLO, through the
simulator, and say "infeasible" with the reason when nothing in the search space meets it.

The search is coordinate descent: starting from the spec as written, each knob in turn takes the option that is
clearly better (meets the SLO and costs at least 0.5 % less; without an SLO-meeting trial yet, a higher attainment),
for a few passes or until a pass changes nothing. Every trial is a full simulation of the spec's own policy on the
workload; identical candidate specs are simulated once. The trial budget — at most `1 + passes × options`, and never
more than `max_trials` — is known before the first simulation.

A candidate is recommended only when it **meets the SLO** (99 % of the workload's requests within both SLO terms,
dropped requests count as misses) and every configuration it puts in force can meet it at some scale by the SLO
envelope (so the written spec passes `llama-infra validate`). When no candidate does, the result is infeasible, with
the best attainment reached and, per serving configuration that misses, why (its share of requests within the SLO,
how long it prefills the p99 prompt, what the envelope rules out).

The descent stops at the cheapest candidate that meets the SLO on the workload it searched, so it tends to stop at
the edge of the SLO on that one draw of arrivals and spot interruptions. Given **held-out draws** (new arrivals, or
only new spot draws on a replayed trace), a change is recommended only once it meets the SLO on every one of them
too: the cheapest of at most `HELD_OUT_CANDIDATES` candidates that does, else no change (or infeasible, when the spec
as written misses the SLO as well).
"""

from __future__ import annotations

import difflib
import io
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from llama_infra.sim.report import PolicyResult, default_assumptions, summarise
from llama_infra.sim.tune_space import EXPANSIONS, REMOVE, Path_, Space, apply, candidate, normalise, path_str, space_of

if TYPE_CHECKING:
    from llama_infra.capacity_plan import Config
    from llama_infra.sim.workload import Workload
    from llama_infra.spec import DeploymentSpec

SLO_SHARE = 0.99  # the SLO is a P99 target (PolicyResult.meets_slo)
DEFAULT_MAX_TRIALS = 200
HELD_OUT_CANDIDATES = 3  # the cheapest SLO-meeting candidates tried on the held-out draws, best first


@dataclass
class ConfigShare:
    """Requests that arrived while one serving configuration was in force, and how many met the SLO."""

    name: str  # "day" or "window '<name>'"
    config: Config
    requests: int
    within_slo: int

    @property
    def attainment(self) -> float:
        return self.within_slo / self.requests if self.requests else 1.0


@dataclass
class Trial:
    changes: dict[Path_, Any]
    result: PolicyResult
    eligible: bool  # every configuration in force can meet the SLO at some scale (SLO envelope)
    shares: list[ConfigShare] = field(default_factory=list)

    @property
    def meets_slo(self) -> bool:
        return self.eligible and self.result.meets_slo

    @property
    def key(self) -> tuple:
        """Meeting the SLO first, then cost; without it, the highest attainment (0.1 % steps, then cost)."""
        r = self.result
        if self.meets_slo:
            return (0, 0, r.total_cost_usd)
        return (1, -round(r.slo_attainment, 3), r.total_cost_usd)

    def better_than(self, other: Trial) -> bool:
        """Clearly better: a better class or attainment, or at least 0.5 % cheaper (no change for noise)."""
        a, b = self.key, other.key
        if a[:2] != b[:2]:
            return a[:2] < b[:2]
        return a[2] < b[2] * 0.995

    def describe(self) -> str:
        return describe_changes(self.changes)


def describe_changes(changes: dict[Path_, Any]) -> str:
    if not changes:
        return "the spec as written"
    parts = []
    for p, v in changes.items():
        parts.append(f"remove {path_str(p)}" if v is REMOVE else f"{path_str(p)}={_value(v)}")
    return ", ".join(parts)


def _value(v: Any) -> str:
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {x}" for k, x in v.items()) + "}"
    return f"{v:g}" if isinstance(v, float) else str(v)


@dataclass(frozen=True)
class Draw:
    """A held-out draw: a workload and the simulator's seed (its spot unavailability and interruptions). The tuned
    workload itself with another seed differs only for a candidate with a spot burst."""

    workload: Workload
    seed: int


@dataclass
class HeldOut:
    """One candidate judged on the held-out draws: per draw its result, None where the draw cannot differ from the
    searched one (the searched workload, and no spot capacity whose draws the seed changes)."""

    trial: Trial
    results: list[PolicyResult | None]

    @property
    def holds(self) -> bool:
        return all(r is None or r.meets_slo for r in self.results)

    @property
    def simulations(self) -> int:
        return sum(r is not None for r in self.results)

    def describe(self, draws: Sequence[Draw]) -> str:
        parts = [
            f"seed {d.seed}: " + ("as searched (no spot draws)" if r is None else f"{r.slo_attainment:.1%}")
            for d, r in zip(draws, self.results, strict=True)
        ]
        return f"{self.trial.describe()} ({', '.join(parts)})"


@dataclass
class TuneResult:
    space: Space
    budget: int
    start: Trial | None  # None: infeasible before any simulation
    best: Trial | None  # with held-out draws: the cheapest candidate that held on all of them
    trials: list[Trial]
    infeasible: str | None  # why no candidate meets the SLO (None: `best` meets it)
    held_out: list[HeldOut] = field(default_factory=list)  # candidates tried on the held-out draws, in order
    not_confirmed: str | None = None  # why the search's best is not recommended (none held on the held-out draws)

    @property
    def recommended(self) -> dict[Path_, Any]:
        """The changes to write: none when infeasible or when the spec as written is best."""
        return {} if self.infeasible or self.best is None else self.best.changes


def trial_budget(space: Space, passes: int = 2, max_trials: int | None = DEFAULT_MAX_TRIALS) -> int:
    """Most simulations `tune` runs: the spec as written plus every option of every knob in every pass (fewer
    when a pass improves nothing, an option repeats a candidate already simulated, or the spec's rules reject a
    combination), never more than `max_trials`."""
    n = 1 + passes * space.options
    return min(n, max_trials) if max_trials else n


def _config_shares(spec: DeploymentSpec, workload: Workload, ok: np.ndarray) -> list[ConfigShare]:
    """Requests per serving configuration in force at their arrival (the first active window wins, as in the
    simulator), with how many met the SLO."""
    from datetime import timedelta

    from llama_infra.capacity_plan import day_config, window_config, window_of

    which = np.full(len(workload), -1, dtype=np.int64)
    end = workload.start + timedelta(seconds=workload.duration_s + 60)
    for i, sch in reversed(list(enumerate(spec.schedules))):  # earlier windows win: written last
        for begin, finish in window_of(sch).occurrences(workload.start, end):
            lo, hi = np.searchsorted(
                workload.arrival_s,
                [(begin - workload.start).total_seconds(), (finish - workload.start).total_seconds()],
            )
            which[lo:hi] = i
    out = []
    for i, cfg in [(-1, day_config(spec))] + [(i, window_config(spec, s)) for i, s in enumerate(spec.schedules)]:
        mask = which == i
        n = int(mask.sum())
        if n:
            out.append(ConfigShare("day" if i < 0 else f"window '{cfg.window}'", cfg, n, int(ok[mask].sum())))
    return out


def _eligible(spec: DeploymentSpec) -> bool:
    from llama_infra.sim.replica_model import ReplicaModelError
    from llama_infra.slo_envelope import envelopes

    try:
        return all(e.reachable for e in envelopes(spec))
    except (ReplicaModelError, ValueError, KeyError):
        return False


def run_trial(
    spec: DeploymentSpec,
    workload: Workload,
    seed: int,
    dt_s: float,
    changes: dict[Path_, Any],
    cand: DeploymentSpec | None = None,
) -> Trial | None:
    """Simulate the spec's own policy on the candidate spec `changes` make (None: the spec's rules reject it)."""
    from llama_infra.sim.engine import Simulation
    from llama_infra.sim.policy_registry import make_policy

    cand = cand if cand is not None else candidate(spec, changes)
    if cand is None:
        return None
    started = time.perf_counter()
    sim = Simulation(cand, workload, make_policy("spec"), default_assumptions(cand), seed, dt_s).run()
    result = summarise(sim, time.perf_counter() - started)
    with np.errstate(invalid="ignore"):
        ok = (sim.status >= 0) & (sim.ttft * 1000 <= cand.slo.ttft_p99_ms) & (sim.tps >= cand.slo.tokens_per_s_per_user)
    return Trial(changes, result, _eligible(cand), _config_shares(cand, workload, ok))


def _day_unreachable(spec: DeploymentSpec) -> str | None:
    """Why the day configuration (which every candidate keeps) cannot meet the SLO at any scale, with the fix."""
    from llama_infra.slo_envelope import envelopes
    from llama_infra.spec.slo import slo_issues

    day = envelopes(spec)[0]
    if day.reachable:
        return None
    fix = next((i.fix for i in slo_issues(spec) if i.severity == "error" and i.path[:1] == ("capacity",)), "")
    return (
        f"the day configuration cannot meet the SLO at any scale — {'; '.join(day.problems)} — and every "
        f"candidate keeps it (tune does not change the day's instance type or model), so nothing was simulated"
        + (f"; fix: {fix}" if fix else "")
    )


def _slo_words(spec: DeploymentSpec) -> str:
    return (
        f"{SLO_SHARE:.0%} of requests within TTFT {spec.slo.ttft_p99_ms:,.0f} ms and "
        f"{spec.slo.tokens_per_s_per_user:g} tokens/s per user"
    )


def _attainable_share(spec: DeploymentSpec, workload: Workload, cfg: Config) -> tuple[float, float]:
    """(share of the workload's prompts an idle replica of `cfg` prefills within the TTFT target, its TTFT in s
    for the workload's p99 prompt)."""
    from llama_infra.sim.capacity import perf_for
    from llama_infra.sim.replica_model import REQUEST_OVERHEAD_S, running_context_tokens

    tp = spec.model.tensor_parallel_degree if cfg.instance_type == spec.capacity.baseline.instance_type else None
    perf = perf_for(cfg, tp, running_context_tokens(workload.mean_prompt_tokens, workload.mean_output_tokens))
    fixed = perf.decode_step_s_batch1 + REQUEST_OVERHEAD_S
    unqueued = workload.prompt_tokens / perf.prefill_tokens_per_s + fixed
    p99 = float(np.percentile(workload.prompt_tokens, 99)) / perf.prefill_tokens_per_s + fixed
    return float((unqueued * 1000 <= spec.slo.ttft_p99_ms).mean()), p99


def infeasibility(spec: DeploymentSpec, workload: Workload, best: Trial, budget_spent: bool = False) -> str:
    """Why the best trial misses the SLO: its attainment, and per configuration below the SLO its share, how long it
    prefills the p99 prompt, what caps it."""
    from llama_infra.slo_envelope import envelopes

    cand = candidate(spec, best.changes) or spec
    r = best.result
    what = "the spec as written" if not best.changes else best.describe()
    head = (
        f"no configuration in the search space reaches {_slo_words(spec)}: the best, {what}, reaches "
        f"{r.slo_attainment:.1%}"
    )
    by_window = {e.config.window: e for e in envelopes(cand)}
    reasons = []
    for s in sorted(best.shares, key=lambda s: s.attainment):
        if s.attainment >= SLO_SHARE:
            continue
        e = by_window.get(s.config.window)
        share, p99_s = _attainable_share(cand, workload, s.config)
        words = (
            f"the {s.name if s.name != 'day' else 'day configuration'} on {s.config.instance_type} "
            f"({s.config.params_b:g}B {s.config.precision}) prefills the p99 prompt in {p99_s:.1f} s and has "
            f"{s.attainment:.1%} of its {s.requests:,} requests within the SLO"
        )
        if share < SLO_SHARE:
            words += f" (at most {share:.1%} at any scale: longer prompts take longer to prefill)"
        elif e is not None and not e.reachable:
            words += f" (the SLO envelope rules it out at any scale: {'; '.join(e.problems)})"
        else:
            words += _capacity_words(best, s, budget_spent)
        reasons.append(words)
    if not best.eligible and not reasons:
        bad = [e for e in envelopes(cand) if not e.reachable]
        reasons += [
            f"the {e.name} configuration cannot meet the SLO at any scale: {'; '.join(e.problems)}" for e in bad
        ]
    return head + ("; " + "; ".join(reasons) if reasons else "")


def _capacity_words(best: Trial, share: ConfigShare, budget_spent: bool) -> str:
    """What holds a configuration back that could meet the SLO with enough capacity: queueing at its max, and
    whether the search stopped for its budget (then more trials may find it) or because nothing helped."""
    r = best.result
    replicas = np.asarray(r.series.get("replicas", []))
    at_max = float((replicas >= share.config.max_replicas).mean()) if len(replicas) else 0.0
    words = f" (TTFT p99 {r.ttft_p99_ms:,.0f} ms" if r.ttft_p99_ms is not None else " ("
    words += f"; at its max_replicas of {share.config.max_replicas} for {at_max:.0%} of the time"
    if r.dropped:
        words += f"; {r.dropped:,} requests dropped"
    if budget_spent:
        return words + "; the trial budget ran out: raise --max-trials or --passes to search further)"
    return words + "; no further step of any knob improved it)"


def tune(
    spec: DeploymentSpec,
    workload: Workload,
    seed: int,
    dt_s: float,
    passes: int = 2,
    max_trials: int | None = DEFAULT_MAX_TRIALS,
    progress=None,
    space: Space | None = None,
    held_out: Sequence[Draw] = (),
) -> TuneResult:
    """Coordinate descent over `space_of(spec)`, its best confirmed on the `held_out` draws; `progress(trial)` is
    told after every simulation of the search."""
    space = space if space is not None else space_of(spec)
    budget = trial_budget(space, passes, max_trials)
    day_problem = _day_unreachable(spec)
    if day_problem:
        return TuneResult(space, 0, None, None, [], day_problem)
    cache: dict[str, Trial] = {}
    trials: list[Trial] = []

    def trial(changes: dict[Path_, Any]) -> Trial | None:
        import json

        changes = normalise(changes)
        cand = candidate(spec, changes)
        if cand is None:
            return None
        key = json.dumps(cand.model_dump(mode="json"), sort_keys=True)
        if key in cache:
            return cache[key]
        if len(trials) >= budget:
            return None
        t = run_trial(spec, workload, seed, dt_s, changes, cand)
        assert t is not None
        cache[key] = t
        trials.append(t)
        if progress:
            progress(t)
        return t

    start = trial({})
    assert start is not None
    best = start
    for _ in range(passes):
        improved = False
        for knob in space.knobs:
            paths = knob.paths
            kept = {p: v for p, v in best.changes.items() if p not in paths}
            current = best.changes.get(knob.numeric, _value_at(spec, knob.numeric)) if knob.numeric else None
            for option in knob.options_at(current):
                t = trial({**kept, **dict(option.changes)})
                if t is not None and t.better_than(best):
                    best, improved = t, True
                    kept = {p: v for p, v in best.changes.items() if p not in paths}
            if knob.numeric and isinstance(current, int):
                # a count that moved keeps moving the same way, in growing steps, while it improves
                value, step = best.changes.get(knob.numeric, current), 2
                direction = (value > current) - (value < current)
                for _ in range(EXPANSIONS if direction else 0):
                    nxt = value + direction * step
                    if nxt < knob.lowest:
                        break
                    t = trial({**kept, knob.numeric: nxt})
                    if t is None or not t.better_than(best):
                        break
                    best, value, step = t, nxt, step * 2
            if len(trials) >= budget:
                break
        if not improved or len(trials) >= budget:
            break
    infeasible = None if best.meets_slo else infeasibility(spec, workload, best, len(trials) >= budget)
    if infeasible or best is start or not held_out:
        return TuneResult(space, budget, start, best, trials, infeasible)
    return _confirm(spec, workload, dt_s, held_out, TuneResult(space, budget, start, best, trials, None))


def _confirm(
    spec: DeploymentSpec, workload: Workload, dt_s: float, draws: Sequence[Draw], found: TuneResult
) -> TuneResult:
    """Recommend the cheapest of the search's best and the next-cheapest SLO-meeting changes (at most
    `HELD_OUT_CANDIDATES`, each clearly better than the spec as written) that meets the SLO on every held-out draw."""
    from llama_infra.sim.policies import burst_capacity_of

    start, best = found.start, found.best
    assert start is not None and best is not None
    others = sorted(
        (t for t in found.trials if t is not best and t.changes and t.meets_slo and t.better_than(start)),
        key=lambda t: t.key,
    )
    checked: list[HeldOut] = []
    for t in [best, *others][:HELD_OUT_CANDIDATES]:
        cand = candidate(spec, t.changes)
        assert cand is not None
        spot = burst_capacity_of(cand) == "spot"
        results: list[PolicyResult | None] = []
        for d in draws:
            if d.workload is workload and not spot:
                results.append(None)
                continue
            r = run_trial(spec, d.workload, d.seed, dt_s, t.changes, cand)
            assert r is not None
            results.append(r.result)
        checked.append(HeldOut(t, results))
        if checked[-1].holds:
            return TuneResult(found.space, found.budget, start, t, found.trials, None, checked)
    missed = "; ".join(h.describe(draws) for h in checked)
    why = (
        f"the {len(checked)} cheapest changes that meet the SLO on the searched workload miss it on a held-out "
        f"draw: {missed}"
    )
    if start.meets_slo:
        return TuneResult(found.space, found.budget, start, start, found.trials, None, checked, why)
    return TuneResult(
        found.space,
        found.budget,
        start,
        best,
        found.trials,
        f"no change that meets {_slo_words(spec)} on the searched workload holds on the held-out draws, and the "
        f"spec as written misses it ({start.result.slo_attainment:.1%}): {why}",
        checked,
    )


def _value_at(spec: DeploymentSpec, path: Path_) -> Any:
    """The spec's value at `path`, defaults filled in (a window's replica bounds as the window applies them)."""
    from llama_infra.capacity_plan import window_config

    if path[0] == "schedules" and path[-1] in ("min_replicas", "max_replicas"):
        return getattr(window_config(spec, spec.schedules[int(path[1])]), path[-1])
    doc: Any = spec.model_dump(mode="json")
    for p in path:
        doc = doc[p]
    return doc


def idle_windows(spec: DeploymentSpec, workload: Workload) -> list[str]:
    """Windows never in force during the workload: the simulator cannot judge their knobs."""
    from datetime import timedelta

    from llama_infra.capacity_plan import window_of

    end = workload.start + timedelta(seconds=workload.duration_s)
    return [s.name for s in spec.schedules if not window_of(s).occurrences(workload.start, end)]


def without_idle_windows(space: Space, idle: list[str]) -> Space:
    """The space less the knobs of windows the workload never reaches."""
    prefixes = tuple(f"window '{n}'" for n in idle)
    return Space(
        [k for k in space.knobs if not k.name.startswith(prefixes)],
        [p for p in space.pruned if not p.knob.startswith(prefixes)],
        space.rejected,
    )


def apply_changes(spec_file: Path, changes: dict[Path_, Any]) -> tuple[str, str]:
    """(the spec file's text, the text with `changes` applied): a ruamel round trip, so comments, key order,
    quoting and flow mappings stay as written."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # keep flow mappings on one line, as written
    yaml.indent(mapping=2, sequence=4, offset=2)
    text = spec_file.read_text()
    doc = yaml.load(text)
    apply(doc, {p: int(v) if isinstance(v, float) and v.is_integer() else v for p, v in changes.items()})
    buf = io.StringIO()
    yaml.dump(doc, buf)
    return text, buf.getvalue()


def yaml_diff(spec_file: Path, changes: dict[Path_, Any]) -> str:
    """The recommended change as a unified diff of the spec file (comments and layout kept)."""
    text, changed = apply_changes(spec_file, changes)
    return "".join(
        difflib.unified_diff(
            text.splitlines(keepends=True),
            changed.splitlines(keepends=True),
            fromfile=str(spec_file),
            tofile=f"{spec_file} (recommended)",
        )
    )


def write_changes(spec_file: Path, changes: dict[Path_, Any]) -> None:
    """Write the recommended change into the spec file, only once the changed text validates as a spec (a file is
    never left half-changed: the new text goes to a temporary file beside it, then replaces it)."""
    import os

    from llama_infra.spec import parse_spec

    _, changed = apply_changes(spec_file, changes)
    parse_spec(changed, str(spec_file), spec_dir=spec_file.parent)  # SpecError: nothing is written
    tmp = spec_file.with_name(f".{spec_file.name}.tune")
    tmp.write_text(changed)
    os.replace(tmp, spec_file)
