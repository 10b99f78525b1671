"""What `tune` may change: every knob of a spec that decides SLO and cost, each with a few candidate values, and the
candidates the SLO envelope rules out before anything is simulated.

A **knob** is one decision (`capacity.burst.max`, "window 'overnight': serving configuration") with a short list of
**options**, each a set of edits to the spec document (a value at a path, or `REMOVE`). The knobs, in search order:

- per window: its serving configuration — as written, **no window at all** (the day configuration all day), the
  day's instance type and model with the window's replica bounds only, or the window's model (and the day's) on the
  cheapest few other instance types of the target that hold it — each with the replica bounds the SLO envelope
  derives for it at the stated peak (`slo_targets`); then the window's `min_replicas`, `max_replicas` and its
  start and end an hour either way;
- `capacity.baseline.count` and `purchase`, `capacity.burst.max`;
- `scaling.queue_depth_target` (and the KV-cache target on EKS): the spec's, the derived one, half and double;
  the stabilization windows.

A window configuration whose envelope cannot meet the SLO at any scale (`slo_envelope.Envelope.problems`: the p99
prompt does not prefill within the TTFT target, or batch-1 decode is slower than the tokens/s per user) is never
simulated: it is **pruned**, with the reason. So is an option whose spec the spec's own rules reject (a model that
does not fit, a quantization the server cannot load, ...) or warn against on a field the spec as written draws no
warning on (`spec.rules.warnings`: a prod baseline of one, which the policy pack's mandatory
`prod-baseline-min-instances` then blocks at `pulumi up`; a prod window held at one replica; ...): `tune` does not
recommend what `validate` would flag. Pure: no simulation here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from llama_infra import target_facts

if TYPE_CHECKING:
    from llama_infra.capacity_plan import Config
    from llama_infra.spec import DeploymentSpec

Path_ = tuple[str | int, ...]


class _Remove:
    def __repr__(self) -> str:
        return "REMOVE"


REMOVE: Any = _Remove()  # an option's value: delete this key (or list item) from the spec

OTHER_INSTANCE_TYPES = 3  # cheapest reachable instance types tried per window model
EXPANSIONS = 3  # a count that improves by a step keeps going: 2, 4 and 8 further in that direction


@dataclass(frozen=True)
class Option:
    label: str
    changes: tuple[tuple[Path_, Any], ...]


@dataclass
class Knob:
    name: str
    options: list[Option]  # alternatives to the spec as written (which every knob also has)
    # a count: the search also tries one either side of its current value, so it can walk beyond these options
    numeric: Path_ | None = None
    lowest: int = 0

    @property
    def paths(self) -> set[Path_]:
        return {p for o in self.options for p, _ in o.changes} | ({self.numeric} if self.numeric else set())

    @property
    def most_options(self) -> int:
        """Options tried per pass at most: the fixed ones and, for a count, one either side of its value and
        `EXPANSIONS` further steps in a direction that keeps improving."""
        return len(self.options) + (2 + EXPANSIONS if self.numeric else 0)

    def options_at(self, current: Any) -> list[Option]:
        """The options to try when the search stands at `current` (the knob's value there)."""
        if self.numeric is None or not isinstance(current, int):
            return self.options
        fixed = {o.changes for o in self.options}
        steps = [Option(f"{v}", ((self.numeric, v),)) for v in (current - 1, current + 1) if v >= self.lowest]
        return self.options + [o for o in steps if o.changes not in fixed]


@dataclass(frozen=True)
class Pruned:
    knob: str
    label: str
    reason: str


@dataclass
class Space:
    knobs: list[Knob]
    pruned: list[Pruned] = field(default_factory=list)  # ruled out by the SLO envelope before simulating
    rejected: int = 0  # options whose spec the spec's rules reject

    @property
    def options(self) -> int:
        """Options tried per pass at most (`Knob.most_options` summed)."""
        return sum(k.most_options for k in self.knobs)


def path_str(path: Path_) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def _set(doc: dict, path: Path_, value: Any) -> None:
    for p in path[:-1]:
        if isinstance(p, str):
            if p not in doc or doc[p] is None:
                doc[p] = {}
            doc = doc[p]
        else:
            doc = doc[p]
    old = doc.get(path[-1]) if isinstance(doc, dict) else None
    if isinstance(old, dict) and isinstance(value, dict):
        # a mapping replaced by another changes only its keys: a ruamel map keeps its flow style and comments
        for k in [k for k in old if k not in value]:
            del old[k]
        for k, v in value.items():
            if old.get(k) != v:
                old[k] = v
        return
    if isinstance(doc, dict) and path[-1] not in doc:
        _append(doc, path[-1], value)
        return
    doc[path[-1]] = value


def _append(doc: dict, key: str | int, value: Any) -> None:
    """Add `key` after the mapping's last key. In a ruamel map the comment lines that follow the last key (ruamel
    keeps them on it: in a spec they open the next section) move to the new key, so they stay above that section; an
    end-of-line comment on the last key stays on its line."""
    last = next(reversed(doc), None) if doc else None
    doc[key] = value
    items: dict | None = getattr(getattr(doc, "ca", None), "items", None)
    if items is None or last is None:
        return  # a plain dict: no comments
    entry = items.get(last) or []
    token = entry[2] if len(entry) > 2 else None
    if token is None:
        return
    line_end = token.value.find("\n")
    if line_end < 0:
        return  # an end-of-line comment alone: it stays
    from ruamel.yaml.tokens import CommentToken

    own, following = token.value[: line_end + 1], token.value[line_end + 1 :]
    entry[2] = CommentToken(own, token.start_mark, None) if own.strip() else None
    if following:
        items[key] = [None, None, CommentToken("\n" + following, token.start_mark, None), None]


def normalise(changes: dict[Path_, Any]) -> dict[Path_, Any]:
    """The edits that matter: none under a removed key or list item."""
    removed = [p for p, v in changes.items() if v is REMOVE]
    return {p: v for p, v in changes.items() if not any(len(r) < len(p) and p[: len(r)] == r for r in removed)}


def apply(doc: Any, changes: dict[Path_, Any]) -> Any:
    """Apply edits to a spec document in place (a plain dict or a ruamel round-trip map): values first, removals
    last and from the highest list index down, so indices stay right; an emptied `schedules` list goes away."""
    changes = normalise(changes)
    for path, value in changes.items():
        if value is not REMOVE:
            _set(doc, path, value)
    for path in sorted(
        (p for p, v in changes.items() if v is REMOVE), key=lambda p: [str(x).zfill(6) for x in p], reverse=True
    ):
        parent = doc
        for p in path[:-1]:
            parent = parent[p]
        key = path[-1]
        if isinstance(parent, list):
            del parent[int(key)]  # a list item's path ends in its index
        elif isinstance(parent, dict) and key in parent:
            del parent[key]
        if path[:-1] == ("schedules",) and not doc.get("schedules"):
            del doc["schedules"]
    return doc


def candidate(spec: DeploymentSpec, changes: dict[Path_, Any]) -> DeploymentSpec | None:
    """The spec with `changes`, validated by the spec's own rules; None when they reject it or warn on a field they
    do not warn on in `spec` (see the module docstring)."""
    from llama_infra.spec import DeploymentSpec
    from llama_infra.spec.rules import warnings

    doc = apply(spec.model_dump(mode="json", exclude_unset=True), changes)
    try:
        out = DeploymentSpec.model_validate(doc, context={"spec_dir": spec.spec_dir})
    except Exception:  # a combination the spec's rules reject (e.g. baseline above max): not a candidate
        return None
    if changes and {w.path for w in warnings(out)} - {w.path for w in warnings(spec)}:
        return None  # a new likely mistake (e.g. a prod baseline of one): not a recommendation
    return out


def _neighbours(value: int, lo: int, extra: tuple[int | None, ...] = ()) -> list[int]:
    out = {v for v in (value - 1, value + 1, *extra) if v is not None and v >= lo}
    out.discard(value)
    return sorted(out)


def _shift_hour(expr: str, hours: int) -> str | None:
    f = expr.split()
    if len(f) != 5 or not f[1].isdigit() or not 0 <= int(f[1]) + hours <= 23:
        return None
    f[1] = str(int(f[1]) + hours)
    return " ".join(f)


def _where(cfg: Config) -> str:
    return f"{cfg.instance_type} ({cfg.params_b:g}B {cfg.precision})"


def _envelope(spec: DeploymentSpec, cfg: Config):
    """The SLO envelope of a window configuration (None when the replica model has no rates for its GPU)."""
    from llama_infra.request_sizes import of_spec
    from llama_infra.slo_envelope import envelope

    tp = spec.model.tensor_parallel_degree if cfg.instance_type == spec.capacity.baseline.instance_type else None
    try:
        return envelope(cfg, tp, spec.slo.ttft_p99_ms / 1000, spec.slo.tokens_per_s_per_user, of_spec(spec))
    except (ValueError, KeyError):
        return None


def _derived(spec: DeploymentSpec | None):
    """`slo_targets.derived_targets` of a spec (the day's, then each window's), as `plan` shows them; [] for no spec
    or when the replica model has no rates for one of its GPUs."""
    from llama_infra.slo_targets import derived_targets

    if spec is None:
        return []
    try:
        return derived_targets(spec)
    except (ValueError, KeyError):
        return []


def _derived_bounds(spec: DeploymentSpec, i: int, config_edits: dict[Path_, Any]) -> dict[Path_, Any]:
    """Window `i`'s min/max replicas the envelope derives at the stated peak once `config_edits` (its instance type
    and model) are made: `slo_targets.derived_targets` of that spec, so the bounds are the ones `plan` would show
    for it (none without a stated peak, or when the spec's rules reject the edits); never above the day's
    max_replicas (the spec's rules: a window does not upsize)."""
    derived = _derived(candidate(spec, config_edits))
    d = derived[i + 1] if len(derived) > i + 1 else None
    if d is None or d.replicas_with_headroom is None:
        return {}
    as_written = spec.schedules[i].downsize.min_replicas
    lo = d.min_replicas if as_written == 0 else max(1, d.min_replicas or 1)
    hi = min(max(d.replicas_with_headroom, lo, 1), spec.max_replicas)
    lo = min(lo, hi)
    return {("schedules", i, "downsize", "min_replicas"): lo, ("schedules", i, "downsize", "max_replicas"): hi}


def _window_configs(spec: DeploymentSpec, i: int, space: Space) -> Knob:
    from llama_infra import catalog, pricing, sizing
    from llama_infra.capacity_plan import changes_model, day_config, window_config

    sch = spec.schedules[i]
    name = f"window '{sch.name}': serving configuration"
    base = ("schedules", i, "downsize")
    as_written, day = window_config(spec, sch), day_config(spec)
    options = [Option("no window (the day configuration all day)", ((("schedules", i), REMOVE),))]
    if changes_model(as_written, day):
        bounds_only: dict[Path_, Any] = {base + ("instance_type",): REMOVE, base + ("model_override",): REMOVE}
        options.append(
            Option(
                f"{day.instance_type}, the day's model (replica bounds only)",
                tuple({**bounds_only, **_derived_bounds(spec, i, bounds_only)}.items()),
            )
        )
    models = {
        (as_written.model_id, as_written.params_b, as_written.precision): "window's model",
        (day.model_id, day.params_b, day.precision): "day's model",
    }
    for (model_id, params_b, precision), which in models.items():
        reachable = []
        for g in catalog.gpu_types_for(spec.target):
            itype = catalog.target_name(g.instance_type, spec.target)
            if itype in (as_written.instance_type, day.instance_type) or not g.runs_precision(precision):
                continue
            if not sizing.fit(params_b, precision, g, None, spec.model.memory_overhead_fraction).fits:
                continue
            try:
                usd = pricing.on_demand(itype, spec.target).usd_per_hour
            except (KeyError, ValueError):
                continue
            cfg = as_written.__class__(
                **{
                    **as_written.__dict__,
                    "instance_type": itype,
                    "model_id": model_id,
                    "params_b": params_b,
                    "precision": precision,
                }
            )
            e = _envelope(spec, cfg)
            if e is None:
                continue
            if not e.reachable:
                space.pruned.append(Pruned(name, f"{_where(cfg)}", "; ".join(e.problems)))
                continue
            reachable.append((usd, itype, cfg))
        for _, itype, cfg in sorted(reachable)[:OTHER_INSTANCE_TYPES]:
            if (model_id, params_b, precision) == (day.model_id, day.params_b, day.precision):
                model = REMOVE
            elif sch.downsize.model_override is not None:  # the window's model, as the spec writes it
                model = sch.downsize.model_override.model_dump(mode="json", exclude_none=True)
            else:
                model = {"id": model_id, "params_b": params_b, "precision": precision}
            edits: dict[Path_, Any] = {base + ("instance_type",): itype, base + ("model_override",): model}
            edits.update(_derived_bounds(spec, i, edits))
            options.append(Option(f"{_where(cfg)}, {which}", tuple(edits.items())))
    return Knob(name, options)


def _scaling_targets(spec: DeploymentSpec, day) -> list[Knob]:
    s = spec.scaling
    q = s.queue_depth_target
    values = {max(1.0, q / 2), q * 2}
    if day is not None and day.queue_depth_target is not None:
        values.add(day.queue_depth_target)
    values.discard(q)
    out = [
        Knob(
            "scaling.queue_depth_target",
            [Option(f"{v:g}", ((("scaling", "queue_depth_target"), v),)) for v in sorted(values)],
        )
    ]
    from llama_infra.slo_envelope import needs
    from llama_infra.slo_targets import kv_cache_trigger

    # the derived KV-cache target where it is one (`kv_cache_trigger`: the KV cache bounds the replica at SLO)
    kv = kv_cache_trigger(needs(spec)[0], day) if day is not None else None
    if target_facts.of(spec.target).scales_on_gpu_memory and kv is not None and kv != s.gpu_memory_target:
        out.append(Knob("scaling.gpu_memory_target", [Option(f"{kv:g}", ((("scaling", "gpu_memory_target"), kv),))]))
    from llama_infra.slo_targets import floor_carries_headroom, predictive_floor

    if floor_carries_headroom(spec):
        # the floor looks ahead in whole hours of the daily shape: no lead, the next hour, the next two — the
        # leads whose floor differs from the spec's own (a switch time under an hour is the next hour's)
        floor = predictive_floor(spec)
        leads = []
        for v in (0, 60, 120):
            c = candidate(spec, {("scaling", "floor_lead_minutes"): v})
            if c is not None and predictive_floor(c) != floor:
                leads.append(Option(f"{v}", ((("scaling", "floor_lead_minutes"), v),)))
        out.append(Knob("scaling.floor_lead_minutes", leads))
    for fld, seconds in (("scale_down_stabilization_seconds", {300, 600}), ("scale_up_stabilization_seconds", {0, 60})):
        current = getattr(s, fld)
        out.append(
            Knob(f"scaling.{fld}", [Option(f"{v}", ((("scaling", fld), v),)) for v in sorted(seconds - {current})])
        )
    return out


def space_of(spec: DeploymentSpec) -> Space:
    """Every knob with its candidate options; options the spec's rules reject or whose configuration the SLO
    envelope rules out are left out (counted in `rejected` / listed in `pruned`)."""
    from llama_infra.capacity_plan import window_config

    space = Space([])
    knobs: list[Knob] = []
    as_written = _derived(spec)
    for i, sch in enumerate(spec.schedules):
        knobs.append(_window_configs(spec, i, space))
        cfg = window_config(spec, sch)
        derived = as_written[i + 1] if as_written else None
        for fld, value, extra in (
            ("min_replicas", cfg.min_replicas, getattr(derived, "min_replicas", None)),
            ("max_replicas", cfg.max_replicas, getattr(derived, "replicas_with_headroom", None)),
        ):
            lowest = 0 if fld == "min_replicas" else 1
            knobs.append(
                Knob(
                    f"window '{sch.name}': {fld}",
                    [
                        Option(f"{v}", ((("schedules", i, "downsize", fld), v),))
                        for v in _neighbours(value, lowest, (extra,))
                    ],
                    ("schedules", i, "downsize", fld),
                    lowest,
                )
            )
        for fld in ("start", "end"):
            expr = getattr(sch, fld)
            knobs.append(
                Knob(
                    f"window '{sch.name}': {fld}",
                    [
                        Option(f'"{v}"', ((("schedules", i, fld), v),))
                        for v in (_shift_hour(expr, -1), _shift_hour(expr, 1))
                        if v
                    ],
                )
            )
    base, burst = spec.capacity.baseline, spec.capacity.burst
    day = as_written[0] if as_written else None
    derived_burst = (
        max(0, day.replicas_with_headroom - base.count)
        if day is not None and day.replicas_with_headroom is not None
        else None
    )
    derived_count = getattr(day, "min_replicas", None)
    knobs.append(
        Knob(
            "capacity.baseline.count",
            [
                Option(f"{v}", ((("capacity", "baseline", "count"), v),))
                for v in _neighbours(base.count, 0, (derived_count,))
            ],
            ("capacity", "baseline", "count"),
        )
    )
    purchases = target_facts.of(spec.target).baseline_purchases
    knobs.append(
        Knob(
            "capacity.baseline.purchase",
            [Option(p, ((("capacity", "baseline", "purchase"), p),)) for p in purchases if p != base.purchase],
        )
    )
    knobs.append(
        Knob(
            "capacity.burst.max",
            [Option(f"{v}", ((("capacity", "burst", "max"), v),)) for v in _neighbours(burst.max, 0, (derived_burst,))],
            ("capacity", "burst", "max"),
        )
    )
    knobs.extend(_scaling_targets(spec, day))
    for k in knobs:
        kept = []
        for o in k.options:
            if candidate(spec, dict(o.changes)) is None:
                space.rejected += 1
            else:
                kept.append(o)
        k.options = kept
    space.knobs = [k for k in knobs if k.options or k.numeric]
    return space
