"""Cross-field rules of the deployment spec. Each rule adds `SpecIssue`s; `check` raises them all at once.

Every message echoes the offending values and ends with a fix, in the manner of aws-cdk's construct checks.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from llama_infra import sizing, target_facts
from llama_infra.schedules import Cron, ScheduleError, Window, distinct_local_time_anomalies, dst_check_years, zone
from llama_infra.spec.errors import Path, SpecIssue, SpecRuleErrors
from llama_infra.spec.instance_types import instance_fields, instance_problem, known_instance, served_model
from llama_infra.spec.window_timing import SCHEDULE_CHECK_FROM, same_firings

if TYPE_CHECKING:
    from llama_infra.spec.model import DeploymentSpec

GATED_MODEL_PREFIXES = ("meta-llama/",)


def check(spec: DeploymentSpec) -> None:
    issues = errors(spec)
    if issues:
        raise SpecRuleErrors(issues)


def errors(spec: DeploymentSpec) -> list[SpecIssue]:
    issues: list[SpecIssue] = []
    for rule in (
        _target_settings,
        _instance_types,
        _model_fit,
        _replicas,
        _weights,
        _schedules,
        _fallback,
        _quantization,
        _eks_monitor_labels,
        _target_errors,
        _tags,
        _request_sizes,
        _window_timing,
    ):
        issues.extend(rule(spec))
    from llama_infra.spec.fact_rules import fact_errors

    issues.extend(fact_errors(spec))
    return issues


def _window_timing(spec: DeploymentSpec) -> list[SpecIssue]:
    from llama_infra.spec.window_timing import window_timing

    return window_timing(spec, SCHEDULE_CHECK_FROM)


def warnings(spec: DeploymentSpec) -> list[SpecIssue]:
    """Likely mistakes that do not stop a plan."""
    out = []
    if spec.environment == "prod" and spec.capacity.baseline.count < 2 and not spec.scaling.scale_to_zero:
        out.append(
            SpecIssue(
                ("capacity", "baseline", "count"),
                f"prod runs a baseline of {spec.capacity.baseline.count}: one instance failure is an outage",
                "use count: 2 or more (instances are spread across zones)",
                "warning",
            )
        )
    if spec.environment == "prod" and spec.scaling.scale_to_zero:
        from llama_infra.capacity_timeline import wake_up_s

        lo, hi = wake_up_s(spec)
        out.append(
            SpecIssue(
                ("scaling", "scale_to_zero"),
                f"prod scales to zero: while idle no replica serves, and the first request waits "
                f"{lo / 60:.0f}–{hi / 60:.0f} min for capacity and the model; the policy pack's mandatory "
                "prod floor (prod-baseline-min-instances, prod-serving-replica-floor) rejects it",
                "keep scale to zero for dev and staging; in prod keep a baseline of 2",
                "warning",
            )
        )
    for i, sched in enumerate(spec.schedules):
        m = sched.downsize.min_replicas
        if spec.environment == "prod" and m is not None and 0 < m < 2:
            out.append(
                SpecIssue(
                    ("schedules", i, "downsize", "min_replicas"),
                    f"prod window '{sched.name}' keeps {m} replica: one failure is an outage until a new "
                    "replica loads, and the policy pack's mandatory prod floor rejects it on EKS",
                    "use min_replicas: 2 or more",
                    "warning",
                )
            )
    for i, sched in enumerate(spec.schedules):
        crons = {key: Cron(getattr(sched, key), sched.timezone) for key in ("start", "end")}
        out.extend(w for w in _local_time_issues(spec, i, crons) if w.severity == "warning")
    from llama_infra.pricing import PRICE_REGION

    if spec.region != PRICE_REGION:
        out.append(
            SpecIssue(
                ("region",),
                f"costs are {PRICE_REGION} list prices (the price snapshot has no other "
                f"region); {spec.region} prices differ, and spot prices and capacity differ more",
                f"read the plan's costs as {PRICE_REGION} estimates; check the AWS pricing pages for {spec.region}",
                "warning",
            )
        )
    if spec.scaling.scale_down_stabilization_seconds < 300:
        out.append(
            SpecIssue(
                ("scaling", "scale_down_stabilization_seconds"),
                f"{spec.scaling.scale_down_stabilization_seconds} s is below the 300 s the guide "
                "recommends: replicas with minutes of cold start will flap",
                "use 300 (600 if it flaps)",
                "warning",
            )
        )
    for i, sched in enumerate(spec.schedules):
        # A window's model without model_override.weights is downloaded as hf://<id>
        # (capacity_plan.window_weights).
        o = sched.downsize.model_override
        if o is None or (o.id in (None, spec.model.id) and o.precision in (None, spec.model.precision)):
            continue
        if o.weights is not None and o.weights.source.startswith("s3://"):
            continue  # the window names its checkpoint's S3 prefix: no download, no token
        mid, prec = o.id or spec.model.id, o.precision or spec.model.precision
        same_checkpoint = o.id in (None, spec.model.id)
        gated = mid.startswith(GATED_MODEL_PREFIXES) and not spec.model.weights.hf_token_secret
        if not (same_checkpoint or gated):
            continue
        problems = (
            [f"{mid} is the day model's checkpoint, not a {prec} one (servers do not quantize it at start)"]
            if same_checkpoint
            else []
        )
        problems += ["it is gated and the spec names no token"] if gated else []
        fixes = [f"set model_override.id to a {prec} export of the model"] if same_checkpoint else []
        fixes += ["set model.weights.hf_token_secret"] if gated else []
        out.append(
            SpecIssue(
                ("schedules", i, "downsize", "model_override"),
                f"window '{sched.name}' downloads hf://{mid} for its {prec} model: " + "; ".join(problems),
                " and ".join(fixes),
                "warning",
            )
        )
    if spec.capacity.baseline.purchase == "reserved" and spec.capacity.baseline.count == 0:
        out.append(
            SpecIssue(
                ("capacity", "baseline", "purchase"),
                "reserved pricing on a baseline of 0 instances",
                "set count, or purchase: on-demand",
                "warning",
            )
        )
    out.extend(_target(spec).spec_warnings(spec))
    return out


def _target(spec: DeploymentSpec) -> Any:
    """The spec's target (`llama_infra.targets`), whose own rules run where the spec is validated. The registry
    imports a target's code only when asked, so the spec layer stays target-neutral (ARCHITECTURE.md)."""
    from llama_infra import targets

    return targets.get(spec.target)


def renders_floor(spec: DeploymentSpec) -> bool:
    """Whether the spec's target renders its predictive floor (`Target.renders_floor`): the one target fact the
    derived scaling targets depend on (`slo_targets`), asked through the same registry lookup as the rules."""
    return bool(_target(spec).renders_floor(spec))


def _target_errors(spec: DeploymentSpec) -> list[SpecIssue]:
    return _target(spec).spec_errors(spec)


# --- rules ---------------------------------------------------------------------------------------------------


def _target_settings(spec: DeploymentSpec) -> list[SpecIssue]:
    """The target's own settings section where it needs one, and no other target's."""
    out = []
    own = target_facts.of(spec.target)
    section = own.settings_section
    if own.settings_example and getattr(spec, section) is None:
        out.append(
            SpecIssue(
                (section,),
                f"target is {own.name} but the {section} section is missing",
                f"add {own.settings_example}",
            )
        )
    for other in target_facts.TARGETS.values():
        if other is not own and getattr(spec, other.settings_section) is not None:
            out.append(
                SpecIssue(
                    (other.settings_section,),
                    f"a `{other.settings_section}` section on a spec whose target is {spec.target}",
                    f"remove the `{other.settings_section}` section, or set target: {other.name}",
                )
            )
    return out


def _instance_types(spec: DeploymentSpec) -> list[SpecIssue]:
    out = []
    for path, itype in instance_fields(spec):
        problem = instance_problem(itype, spec.target, served_model(spec, path))
        if problem:
            out.append(SpecIssue(path, *problem))
    return out


def _fit_issue(
    path: Path, model_id: str, params_b: float, precision: str, instance_type: str, spec: DeploymentSpec, tp: int | None
) -> SpecIssue | None:
    inst = known_instance(instance_type, spec.target)
    if inst is None:
        return None
    overhead = spec.model.memory_overhead_fraction
    f = sizing.fit(params_b, precision, inst, tp, overhead)
    if f.fits:
        return None
    low, high = sizing.memory_range_gb(params_b, precision)
    gpus = f"{tp} of its GPUs" if tp and tp != inst.gpu_count else inst.describe_gpus()
    if tp and tp != inst.gpu_count:
        gpus = (
            f"{tp}×{inst.gpu_memory_gb:.0f} GB = {tp * inst.gpu_memory_gb:.0f} GB on {tp} "
            f"GPU{'s' if tp != 1 else ''} (TP {tp})"
        )
    smaller = [p for p in sizing.fitting_precisions(params_b, inst, f.tp_degree, overhead) if p != precision]
    bigger = sizing.fitting_instances(params_b, precision, spec.target, overhead_fraction=overhead)
    fixes = []
    if smaller:
        fixes.append("quantize (precision " + _or(smaller) + ")")
    if bigger:
        fixes.append("use " + _or(bigger))
    return SpecIssue(
        path,
        f"{model_id} ({params_b:g}B {precision}) does not fit: it needs ≈{low:.0f}–{high:.0f} GB "
        f"({sizing.weights_gb(params_b, precision):.0f} GB weights + 20–30 %; checked at "
        f"{overhead:.0%}); {instance_type} has {gpus}",
        (
            ", or ".join(fixes)
            if fixes
            else "no single instance type holds this model at this precision; quantize "
            "it (int4/awq) or serve a smaller model"
        ),
    )


def _or(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def _model_fit(spec: DeploymentSpec) -> list[SpecIssue]:
    out = []
    m = spec.model
    tp = m.tensor_parallel_degree
    base = known_instance(spec.capacity.baseline.instance_type, spec.target)
    facts = target_facts.of(spec.target)
    if tp and base:
        if tp not in sizing.valid_tp_degrees(base.gpu_count):
            out.append(
                SpecIssue(
                    ("model", "tensor_parallel_degree"),
                    f"tensor_parallel_degree {tp} does not divide the {base.gpu_count} GPUs of "
                    f"{spec.capacity.baseline.instance_type}",
                    f"use one of {sizing.valid_tp_degrees(base.gpu_count)} or omit it",
                )
            )
            tp = None
        elif facts.one_server_per_instance and tp != base.gpu_count:
            out.append(
                SpecIssue(
                    ("model", "tensor_parallel_degree"),
                    f"tensor_parallel_degree {tp} leaves GPUs idle: {facts.one_server_per_instance} and "
                    f"{spec.capacity.baseline.instance_type} has {base.gpu_count} GPUs",
                    f"omit it (uses {base.gpu_count}) or pick an instance type with {tp} GPUs",
                )
            )
            tp = None
    targets: list[tuple[Path, str]] = [
        (("capacity", "baseline", "instance_type"), spec.capacity.baseline.instance_type)
    ]
    targets += [
        (("capacity", "burst", "instance_types", i), t) for i, t in enumerate(spec.capacity.burst.instance_types)
    ]
    replica_tp = (tp or (base.gpu_count if base else None)) if facts.one_replica_shape else tp
    for path, itype in targets:
        inst = known_instance(itype, spec.target)
        # Where one workload serves every burst type (EKS: one Deployment), a replica has the same TP (GPU
        # request) everywhere.
        this_tp = replica_tp if (replica_tp and inst and inst.gpu_count % replica_tp == 0) else None
        issue = _fit_issue(path, m.id, m.params_b, m.precision, itype, spec, this_tp)
        if issue:
            out.append(issue)
    for i, s in enumerate(spec.schedules):
        o = s.downsize.model_override
        itype = s.downsize.instance_type or spec.capacity.baseline.instance_type
        if s.downsize.instance_type is None and o is None:
            continue
        mid = o.id if o and o.id else m.id
        params = o.params_b if o and o.params_b else m.params_b
        prec = o.precision if o and o.precision else m.precision
        issue = _fit_issue(
            ("schedules", i, "downsize", "instance_type" if s.downsize.instance_type else "model_override"),
            mid,
            params,
            prec,
            itype,
            spec,
            None,
        )
        if issue:
            out.append(issue)
    if spec.fallback:
        fb = spec.fallback
        itype = fb.instance_type or spec.capacity.baseline.instance_type
        issue = _fit_issue(("fallback",), fb.model_id, fb.params_b, fb.precision, itype, spec, None)
        if issue:
            out.append(issue)
    return out


def _replicas(spec: DeploymentSpec) -> list[SpecIssue]:
    out = []
    sc, base = spec.scaling, spec.capacity.baseline
    lo, hi = spec.min_replicas, spec.max_replicas
    if lo > hi:
        out.append(
            SpecIssue(
                ("scaling", "min_replicas"),
                f"min_replicas ({lo}) is greater than max_replicas ({hi})",
                f"set min_replicas ≤ {hi} or raise max_replicas",
            )
        )
    if lo < base.count:
        out.append(
            SpecIssue(
                ("scaling", "min_replicas"),
                f"min_replicas ({lo}) is below the reserved baseline ({base.count} instances): the "
                "baseline is paid for whether it serves or not",
                f"set min_replicas: {base.count} (or omit it), or lower capacity.baseline.count",
            )
        )
    capacity_limit = base.count + spec.capacity.burst.max
    if hi > max(capacity_limit, 1):
        out.append(
            SpecIssue(
                ("scaling", "max_replicas"),
                f"max_replicas ({hi}) exceeds the capacity that can host replicas: baseline "
                f"{base.count} + burst max {spec.capacity.burst.max} = {capacity_limit}",
                f"raise capacity.burst.max to {hi - base.count} or lower max_replicas",
            )
        )
    if sc.scale_to_zero and base.count > 0:
        out.append(
            SpecIssue(
                ("scaling", "scale_to_zero"),
                f"scale_to_zero with a baseline of {base.count} instance{'s' if base.count != 1 else ''}: the "
                "baseline always runs",
                "set capacity.baseline.count: 0, or scale_to_zero: false",
            )
        )
    if lo == 0 and not sc.scale_to_zero:
        out.append(
            SpecIssue(
                ("scaling", "min_replicas"),
                "min_replicas 0 means the service can go cold",
                "set scaling.scale_to_zero: true to accept cold starts, or min_replicas ≥ 1",
            )
        )
    return out


def _weights(spec: DeploymentSpec) -> list[SpecIssue]:
    out = []
    w = spec.model.weights
    if w.preload == "nvme":
        for path, itype in instance_fields(spec):
            inst = known_instance(itype, spec.target)
            if inst and not inst.has_nvme:
                out.append(
                    SpecIssue(
                        path,
                        f"weights.preload is nvme but {itype} has no instance storage",
                        "use a type with NVMe (g5, g6, g6e, p4d, p5) or preload: none",
                    )
                )
    if w.source.startswith("hf://") and spec.model.id.startswith(GATED_MODEL_PREFIXES) and not w.hf_token_secret:
        out.append(
            SpecIssue(
                ("model", "weights", "hf_token_secret"),
                f"{spec.model.id} is gated on the Hugging Face Hub and needs a token",
                "set hf_token_secret to a Secrets Manager secret name/ARN (SageMaker) or a Kubernetes "
                "Secret name (EKS), or serve the weights from an s3:// prefix",
            )
        )
    if w.hf_token_secret and w.hf_token_secret.startswith("hf_"):
        out.append(
            SpecIssue(
                ("model", "weights", "hf_token_secret"),
                "this looks like a literal Hugging Face token; a spec is committed to git",
                "revoke that token, store it in Secrets Manager / a Kubernetes Secret, name it here",
            )
        )
    return out


def _schedules(spec: DeploymentSpec) -> list[SpecIssue]:
    out = []
    windows: list[tuple[int, Window]] = []
    names: set[str] = set()
    for i, s in enumerate(spec.schedules):
        if s.name in names:
            out.append(
                SpecIssue(
                    ("schedules", i, "name"),
                    f"schedule name '{s.name}' is used twice",
                    "give each schedule its own name",
                )
            )
        names.add(s.name)
        if s.name == "day":
            out.append(
                SpecIssue(
                    ("schedules", i, "name"),
                    "'day' names the day configuration (the one in force "
                    "outside every window): a window cannot take it",
                    "name the window e.g. 'overnight'",
                )
            )
        crons = {}
        try:
            zone(s.timezone)
        except ScheduleError as e:
            out.append(SpecIssue(("schedules", i, "timezone"), e.problem, e.fix))
        else:
            if s.timezone in _FIXED_OFFSET_ZONES:
                out.append(
                    SpecIssue(
                        ("schedules", i, "timezone"),
                        f"'{s.timezone}' is a fixed UTC offset without "
                        "daylight saving: the window would run an hour off local time for months each "
                        "year",
                        f"use {_FIXED_OFFSET_ZONES[s.timezone]}",
                    )
                )
            for key in ("start", "end"):
                try:
                    crons[key] = Cron(getattr(s, key), s.timezone)
                except ScheduleError as e:
                    out.append(SpecIssue(("schedules", i, key), e.problem, e.fix))
        if len(crons) == 2:
            window = Window(crons["start"], crons["end"])
            if s.start.split() == s.end.split():
                out.append(
                    SpecIssue(
                        ("schedules", i, "end"),
                        f"start and end are both '{s.start}': the window is empty",
                        "set end to when the day configuration returns, e.g. '0 7 * * *'",
                    )
                )
            elif same_firings(crons["start"], crons["end"]):
                out.append(
                    SpecIssue(
                        ("schedules", i, "end"),
                        f"start '{s.start}' and end '{s.end}' fire at the same times: the window is empty",
                        "set end to when the day configuration returns, e.g. '0 7 * * *'",
                    )
                )
            else:
                windows.append((i, window))
                out.extend(i_ for i_ in _local_time_issues(spec, i, crons) if i_.severity == "error")
                out.extend(_target(spec).window_errors(spec, i))
        d = s.downsize
        if d.min_replicas is not None and d.max_replicas is not None and d.min_replicas > d.max_replicas:
            out.append(
                SpecIssue(
                    ("schedules", i, "downsize", "min_replicas"),
                    f"min_replicas ({d.min_replicas}) is greater than max_replicas ({d.max_replicas})",
                    "lower min_replicas or raise max_replicas",
                )
            )
        if d.min_replicas == 0 and not spec.scaling.scale_to_zero:
            out.append(
                SpecIssue(
                    ("schedules", i, "downsize", "min_replicas"),
                    "a window with 0 replicas needs scale to zero",
                    "set scaling.scale_to_zero: true, or min_replicas ≥ 1",
                )
            )
        fixed_by = target_facts.of(spec.target).scale_to_zero_serving
        if fixed_by and spec.scaling.scale_to_zero and (d.instance_type or d.model_override):
            field = "instance_type" if d.instance_type else "model_override"
            out.append(
                SpecIssue(
                    ("schedules", i, "downsize", field),
                    f"with scale to zero, {fixed_by}: a window can change only its min/max copies",
                    f"remove {field} from this window (keep min_replicas/max_replicas), or set "
                    "scaling.scale_to_zero: false to downsize the instance type overnight",
                )
            )
        if d.instance_type is None and d.model_override is None and d.min_replicas is None and d.max_replicas is None:
            out.append(
                SpecIssue(
                    ("schedules", i, "downsize"),
                    "the window changes nothing",
                    "set instance_type, model_override, min_replicas or max_replicas",
                )
            )
    for a in range(len(windows)):
        for b in range(a + 1, len(windows)):
            (ia, wa), (ib, wb) = windows[a], windows[b]
            hit = wa.overlaps(wb, SCHEDULE_CHECK_FROM)
            if hit:
                out.append(
                    SpecIssue(
                        ("schedules", ib),
                        f"window '{spec.schedules[ib].name}' overlaps "
                        f"'{spec.schedules[ia].name}' (e.g. {hit[0]:%a %H:%M}–{hit[1]:%H:%M} UTC)",
                        "make the windows disjoint: only one downsizing can be in force at a time",
                    )
                )
    return out


def _local_time_issues(spec: DeploymentSpec, i: int, crons: dict[str, Cron]) -> list[SpecIssue]:
    """Window times a daylight-saving change skips or repeats, and what that does (docs/bad-input.md).

    EventBridge Scheduler and KEDA's cron skip a local time that does not exist: an end there leaves the night
    configuration in force all the next day (an error); a start there skips that night's window (a warning). A
    repeated local time fires once, at its first occurrence (a warning: nothing breaks, but it is an hour early).
    """
    s, out = spec.schedules[i], []
    schedulers = _target(spec).window_schedulers(spec)
    who, skip = " and ".join(schedulers), "skips" if len(schedulers) == 1 else "skip"
    for key in ("start", "end"):
        for a in distinct_local_time_anomalies(crons[key], dst_check_years(SCHEDULE_CHECK_FROM.year)):
            at = f"{a.local:%H:%M} {s.timezone}"
            day = f"{a.local:%a %d %b %Y}".replace(" 0", " ")
            skipped = f"{a.span[0]:%H:%M}–{a.span[1]:%H:%M}"
            outside = f"at {a.span[1]:%H:%M} or later, or before {a.span[0]:%H:%M}"
            if a.kind == "gap" and key == "end":
                out.append(
                    SpecIssue(
                        (*_at(i), key),
                        f"window '{s.name}' ends at {at}, which does not exist on {day} "
                        f"({a.change}; {skipped} is skipped): {who} {skip} "
                        "it, so the window's configuration would serve that whole day",
                        f"end the window {outside}",
                    )
                )
            elif a.kind == "gap":
                out.append(
                    SpecIssue(
                        (*_at(i), key),
                        f"window '{s.name}' starts at {at}, which does not exist on "
                        f"{day} ({a.change}; {skipped} is skipped): "
                        f"{who} {skip} "
                        "it, so that day the window does not start and the day configuration serves on",
                        f"start the window {outside} so that it runs that day too",
                        "warning",
                    )
                )
            else:
                out.append(
                    SpecIssue(
                        (*_at(i), key),
                        f"window '{s.name}' {key}s at {at}, which occurs twice on {day} "
                        f"({a.change}; {skipped} repeats): EventBridge Scheduler fires it once, at the "
                        f"first {a.local:%H:%M} (summer time), an hour before the second",
                        f"{key} the window {outside} to have one meaning",
                        "warning",
                    )
                )
    return out


def _at(i: int) -> Path:
    return ("schedules", i)


# Legacy zone names that are fixed offsets, next to the zone users almost always mean.
_FIXED_OFFSET_ZONES = {
    "EST": "'America/New_York' (or 'Etc/GMT+5' if a fixed offset is really meant)",
    "MST": "'America/Denver', or 'America/Phoenix' (no daylight saving there)",
}


def _fallback(spec: DeploymentSpec) -> list[SpecIssue]:
    fb = spec.fallback
    if fb is None:
        return []
    out = []
    if sizing.weights_gb(fb.params_b, fb.precision) >= sizing.weights_gb(spec.model.params_b, spec.model.precision):
        out.append(
            SpecIssue(
                ("fallback", "params_b"),
                f"the fallback ({fb.params_b:g}B {fb.precision}) is not "
                f"smaller than the primary ({spec.model.params_b:g}B {spec.model.precision})",
                "overflow to a smaller or more quantized model, e.g. an 8B awq checkpoint",
            )
        )
    return out


def _quantization(spec: DeploymentSpec) -> list[SpecIssue]:
    """The server really applies each precision: from the checkpoint's own quantization_config, or a flag at load
    (`llama_infra.quantization`); a precision it ignores would load 16-bit weights into memory sized for it."""
    from llama_infra import quantization

    server = quantization.server_of(spec.target, spec.model.framework)
    sections: list[tuple[Path, str, bool | None, bool]] = [
        (("model", "precision"), spec.model.precision, spec.model.quantized_checkpoint, True)
    ]
    for i, sched in enumerate(spec.schedules):
        o = sched.downsize.model_override
        if o is None or (o.id in (None, spec.model.id) and o.precision in (None, spec.model.precision)):
            continue
        prec = o.precision or spec.model.precision
        declared = quantization.declared_for(
            spec.model.id, spec.model.precision, spec.model.quantized_checkpoint, o.id or spec.model.id, prec
        )
        sections.append((("schedules", i, "downsize", "model_override", "precision"), prec, declared, False))
    if spec.fallback is not None and target_facts.of(spec.target).serves_fallback:
        sections.append((("fallback", "precision"), spec.fallback.precision, None, False))
    out = []
    for path, precision, declared, has_field in sections:
        found = quantization.problem(precision, declared, server, checkpoint_field=has_field)
        if found:
            if declared is True or (declared is False and precision in quantization.CALIBRATED_OFFLINE):
                path = ("model", "quantized_checkpoint")
            out.append(SpecIssue(path, *found))
    return out


# Kubernetes label syntax (apimachinery validation.IsQualifiedName / IsValidLabelValue).
_LABEL_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_LABEL_KEY = re.compile(rf"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?{_LABEL_NAME}$")
_LABEL_VALUE = re.compile(rf"^({_LABEL_NAME})?$")


def _eks_monitor_labels(spec: DeploymentSpec) -> list[SpecIssue]:
    """The PodMonitors' labels must be Kubernetes labels, or the API server rejects every monitor."""
    if spec.eks is None:
        return []
    out = []
    fix = (
        "use the labels your Prometheus resource's podMonitorSelector matches, e.g. release: kube-prometheus-stack "
        "(kube-prometheus-stack selects release: <its Helm release name>)"
    )
    for key, value in spec.eks.scrape.monitor_labels.items():
        path = ("eks", "scrape", "monitor_labels", key)
        if not _LABEL_KEY.match(key) or len(key.partition("/")[0]) > 253:
            out.append(
                SpecIssue(
                    path,
                    f"'{key}' is not a Kubernetes label key (an optional DNS prefix and '/', then "
                    "at most 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric)",
                    fix,
                )
            )
        elif not _LABEL_VALUE.match(value):
            out.append(
                SpecIssue(
                    path,
                    f"'{value}' is not a Kubernetes label value (at most 63 letters, digits, '-', "
                    "'_' or '.', starting and ending alphanumeric)",
                    fix,
                )
            )
    return out


def _tags(spec: DeploymentSpec) -> list[SpecIssue]:
    return [
        SpecIssue(("tags", k), f"tag key '{k}' uses the reserved 'aws:' prefix", "rename the tag")
        for k in spec.tags
        if k.lower().startswith("aws:")
    ]


def _request_sizes(spec: DeploymentSpec) -> list[SpecIssue]:
    rs = spec.load.request_sizes
    if rs is None:
        return []
    base: Path = ("load", "request_sizes")
    out = []
    stated = [k for k in ("prompt_tokens", "output_tokens") if getattr(rs, k) is not None]
    if rs.trace is not None and stated:
        out.append(
            SpecIssue(
                base + (stated[0],),
                f"both a trace ({rs.trace}) and {' and '.join(stated)} "
                "percentiles: the sizes come from one or the other",
                "remove trace, or remove the percentiles",
            )
        )
    elif rs.trace is None and len(stated) != 2:
        missing = "output_tokens" if stated == ["prompt_tokens"] else "prompt_tokens"
        out.append(
            SpecIssue(
                base + (missing,) if stated else base,
                f"{'only ' + stated[0] + ' is' if stated else 'neither a trace nor percentiles are'} "
                "given: the SLO envelope needs prompt and output sizes",
                f"add {missing}: {{p50: …, p95: …, p99: …}}"
                if stated
                else "add trace: FILE.csv, or prompt_tokens and output_tokens percentiles, or remove "
                "request_sizes (default: the shared Azure code trace)",
            )
        )
    for key in stated:
        t = getattr(rs, key)
        pairs = [("p50", t.p50, "p95", t.p95), ("p95", t.p95, "p99", t.p99)]
        for lo_name, lo, hi_name, hi in pairs:
            if lo > hi:
                out.append(
                    SpecIssue(
                        base + (key, hi_name),
                        f"{lo_name} {lo:g} is above {hi_name} {hi:g}: a percentile cannot be smaller than a lower one",
                        f"use {hi_name} ≥ {lo:g} (or swap the values)",
                    )
                )
    if rs.trace is not None and not stated:
        from llama_infra.request_sizes import from_trace, trace_path
        from llama_infra.trace_format import TRACE_COLUMNS, TraceError

        try:
            from_trace(trace_path(spec))
        except TraceError as e:
            out.append(
                SpecIssue(
                    base + ("trace",),
                    f"cannot take request sizes from it: {e}",
                    f"name a CSV with the columns {','.join(TRACE_COLUMNS)} (a relative path starts "
                    "at the spec file's folder), or state prompt_tokens and output_tokens percentiles",
                )
            )
    return out
