"""Can the spec meet its SLO, and carry its load: the checks `validate` and `plan` run on the SLO envelope.

Not part of `load_spec`: a spec the replica model judges out of reach is still a well-formed spec (the model is an
estimate with sources, `llama_infra/sim/replica_model.py`), so these are reported by `llama-infra validate` (an
error makes it exit 1) and listed by `llama-infra plan`, each with the numbers and a fix:

- error: a configuration (day, or a window's) cannot meet the spec's `slo` at any scale
  (`slo_envelope.Envelope.problems`); a warning when the spec states no `slo` (the default is the guide's 500 ms);
- warning: `max_replicas` (day or window) cannot carry the stated peak at SLO, with how many it would take;
- warning: a stated `load.requests_per_second_per_replica` more than 25 % away from the derived one.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from llama_infra import catalog, sizing
from llama_infra.spec.errors import Path, SpecIssue

if TYPE_CHECKING:
    from llama_infra.slo_envelope import Envelope
    from llama_infra.spec.model import DeploymentSpec

STATED_RATE_TOLERANCE = 0.25  # a stated rate per replica this far from the derived one is a warning


def _config_path(spec: DeploymentSpec, window: str | None, field: str) -> Path:
    if window is None:
        return ("capacity", "baseline", "instance_type") if field == "instance_type" else ("scaling", field)
    i = next(i for i, s in enumerate(spec.schedules) if s.name == window)
    d = spec.schedules[i].downsize
    if field == "instance_type" and d.instance_type is None:
        return ("schedules", i, "downsize", "model_override") if d.model_override else ("schedules", i, "downsize")
    return ("schedules", i, "downsize", field)


def _reaching_instances(spec: DeploymentSpec, e: Envelope, limit: int = 3) -> list[str]:
    """The cheapest instance types of the target on which this configuration's model meets the SLO."""
    from llama_infra.pricing import on_demand
    from llama_infra.slo_envelope import envelope

    found = []
    for g in catalog.gpu_types_for(spec.target):
        if not sizing.fit(e.config.params_b, e.config.precision, g).fits:
            continue
        name = catalog.target_name(g.instance_type, spec.target)
        try:
            cfg = e.config.__class__(**{**e.config.__dict__, "instance_type": name})
            other = envelope(cfg, None, e.ttft_slo_s, e.tokens_per_s_slo, e.sizes)
            usd = on_demand(name, spec.target).usd_per_hour
        except (ValueError, KeyError):  # no serving rates or no price for this GPU: not suggested
            continue
        if other.reachable:
            found.append((usd, name))
    return [n for _, n in sorted(found)[:limit]]


def _reaching_precisions(spec: DeploymentSpec, e: Envelope) -> list[str]:
    from llama_infra.slo_envelope import envelope

    out = []
    for prec in ("fp8", "int8", "awq", "gptq", "int4"):
        if prec == e.config.precision:
            continue
        inst = catalog.lookup(e.config.instance_type)
        if inst is None or not sizing.fit(e.config.params_b, prec, inst, e.tp_degree).fits:
            continue
        try:
            cfg = e.config.__class__(**{**e.config.__dict__, "precision": prec})
            if envelope(cfg, e.tp_degree, e.ttft_slo_s, e.tokens_per_s_slo, e.sizes).reachable:
                out.append(prec)
        except ValueError:
            continue
    return out


def workable_ttft_ms(e: Envelope) -> float:
    """The least TTFT target (a multiple of 100 ms) at which one replica of this configuration carries at least
    half the requests per second its prefill saturates at, with the SLO's tokens/s per user."""
    from llama_infra.slo_envelope import envelope, perf_of

    perf = perf_of(e.config, e.tp_degree)
    saturated = perf.prefill_tokens_per_s / max(e.sizes.prompt.mean, 1.0)
    ms = math.ceil(e.ttft_p99_prompt_s * 10) * 100
    for _ in range(100):
        if envelope(e.config, e.tp_degree, ms / 1000, e.tokens_per_s_slo, e.sizes).requests_per_second >= (
            saturated / 2
        ):
            break
        ms += 100
    return ms


def _fixes(spec: DeploymentSpec, e: Envelope) -> str:
    fixes = []
    faster = _reaching_instances(spec, e)
    if faster:
        fixes.append(f"a faster instance ({', '.join(faster)})")
    precisions = _reaching_precisions(spec, e)
    if precisions:
        fixes.append(f"a quantized model (precision {' or '.join(precisions)})")
    looser = []
    if e.ttft_p99_prompt_s > e.ttft_slo_s:
        looser.append(f"ttft_p99_ms: {workable_ttft_ms(e):g}, where a replica carries half its prefill-bound rate")
    if e.tokens_per_s_batch1 < e.tokens_per_s_slo:
        looser.append(f"tokens_per_s_per_user: {max(1, math.floor(e.tokens_per_s_batch1 * 0.9)):g}")
    fixes.append(f"a looser SLO ({', '.join(looser)})")
    if e.ttft_p99_prompt_s > e.ttft_slo_s:
        fixes.append("or shorter prompts (load.request_sizes, if the traffic really has them)")
    return "use " + ", ".join(fixes) if fixes else ""


def _serving_shape(e: Envelope) -> tuple:
    return (e.config.instance_type, e.config.params_b, e.config.precision, e.tp_degree)


def slo_issues(spec: DeploymentSpec) -> list[SpecIssue]:
    """Every SLO problem of a valid spec (errors and warnings), day configuration first."""
    from llama_infra.sim.replica_model import ReplicaModelError
    from llama_infra.slo_envelope import needs

    try:
        config_needs = needs(spec)
    except ReplicaModelError as error:  # a GPU without serving rates: nothing to judge the SLO by
        return [SpecIssue(("slo",), f"the SLO cannot be checked: {error}", "", "warning")]
    out = []
    day_shape = _serving_shape(config_needs[0].envelope)
    for n in config_needs:
        e = n.envelope
        if not e.reachable:
            if e.config.window is not None and _serving_shape(e) == day_shape:
                continue  # a window that changes only replica bounds serves like the day: reported once
            stated = "slo" in spec.model_fields_set
            out.append(
                SpecIssue(
                    _config_path(spec, e.config.window, "instance_type"),
                    f"the {e.name} configuration cannot meet the "
                    f"{'SLO' if stated else 'default SLO (the spec states none)'} at any scale: "
                    + "; ".join(e.problems),
                    _fixes(spec, e),
                    "error" if stated else "warning",
                )
            )
            continue
        if n.replicas_at_peak is not None and n.replicas_at_peak > e.config.max_replicas:
            if e.config.window is None and spec.scaling.max_replicas is None:
                path: Path = ("capacity", "burst", "max")
                burst = n.replicas_at_peak - spec.capacity.baseline.count
                fix = (
                    f"set burst max: {burst} or more (max_replicas is the baseline's "
                    f"{spec.capacity.baseline.count} + burst max)"
                )
            else:
                path = _config_path(spec, e.config.window, "max_replicas")
                fix = f"set max_replicas: {n.replicas_at_peak} or more"
            out.append(
                SpecIssue(
                    path,
                    f"the {e.name} configuration's max_replicas {e.config.max_replicas} cannot "
                    f"carry its peak of {n.peak_requests_per_second:.1f} requests/s at SLO: a replica "
                    f"of {e.config.instance_type} carries ≈ {e.requests_per_second:.2f} requests/s "
                    f"({e.concurrency:.1f} concurrent, limited by {e.limited_by}), so it takes "
                    f"{n.replicas_at_peak}",
                    fix,
                    "warning",
                )
            )
    day = config_needs[0].envelope
    stated_rate = spec.load.requests_per_second_per_replica
    if stated_rate is not None and day.reachable and day.requests_per_second > 0:
        off = abs(stated_rate - day.requests_per_second) / day.requests_per_second
        if off > STATED_RATE_TOLERANCE:
            out.append(
                SpecIssue(
                    ("load", "requests_per_second_per_replica"),
                    f"{stated_rate:g} requests/s per replica is {off:.0%} away from the "
                    f"{day.requests_per_second:.2f} the replica model derives for "
                    f"{day.config.instance_type} at the SLO with these request sizes ({day.sizes.source})",
                    "remove it (the derived value is used), or keep it if a load test measured it",
                    "warning",
                )
            )
    return out
