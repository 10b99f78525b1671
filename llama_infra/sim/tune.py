"""Search the spec's scaling knobs for the least cost that meets the SLO, by coordinate descent over candidate
values (each candidate is a full simulation of the spec's own policy), and express the winner as a YAML diff."""

from __future__ import annotations

import difflib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llama_infra.sim.report import PolicyResult, default_assumptions, run_policy
from llama_infra.spec import DeploymentSpec

if TYPE_CHECKING:
    from llama_infra.sim.workload import Workload

Path_ = tuple[str | int, ...]


@dataclass
class Trial:
    changes: dict[Path_, Any]
    result: PolicyResult

    @property
    def key(self) -> tuple:
        """Meeting the SLO first, then cost; without it, the highest attainment (0.1 % steps, then cost)."""
        r = self.result
        if r.meets_slo:
            return (0, 0, r.total_cost_usd)
        return (1, -round(r.slo_attainment, 3), r.total_cost_usd)

    def better_than(self, other: Trial) -> bool:
        """Clearly better: a better class or attainment, or at least 0.5 % cheaper (no change for noise)."""
        a, b = self.key, other.key
        if a[:2] != b[:2]:
            return a[:2] < b[:2]
        return a[2] < b[2] * 0.995


def _get(doc: dict, path: Path_) -> Any:
    for p in path:
        doc = doc[p]
    return doc


def _set(doc: dict, path: Path_, value: Any) -> None:
    for p in path[:-1]:
        doc = doc.setdefault(p, {}) if isinstance(p, str) else doc[p]
    doc[path[-1]] = value


def _shift_hour(expr: str, hours: int) -> str | None:
    f = expr.split()
    if len(f) != 5 or not f[1].isdigit() or not 0 <= int(f[1]) + hours <= 23:
        return None
    f[1] = str(int(f[1]) + hours)
    return " ".join(f)


def knobs(spec: DeploymentSpec) -> dict[Path_, list[Any]]:
    s, base = spec.scaling, spec.capacity.baseline
    q = s.queue_depth_target
    out: dict[Path_, list[Any]] = {
        ("scaling", "queue_depth_target"): sorted({max(1.0, q / 2), q, q * 2, q * 4}),
        ("capacity", "baseline", "count"): sorted({max(0, base.count - 1), base.count, base.count + 1}),
        ("scaling", "scale_down_stabilization_seconds"): sorted({300, s.scale_down_stabilization_seconds, 600}),
        ("scaling", "scale_up_stabilization_seconds"): sorted({0, s.scale_up_stabilization_seconds, 60}),
    }
    for i, sch in enumerate(spec.schedules):
        for field in ("start", "end"):
            values = [getattr(sch, field)] + [v for v in (_shift_hour(getattr(sch, field), d) for d in (-1, 1)) if v]
            out[("schedules", i, field)] = values
    return out


def _candidate(spec: DeploymentSpec, changes: dict[Path_, Any]) -> DeploymentSpec | None:
    doc = spec.model_dump(mode="json", exclude_unset=True)
    for path, value in changes.items():
        _set(doc, path, value)
    try:
        return DeploymentSpec.model_validate(doc)
    except Exception:  # a combination the spec's rules reject (e.g. baseline above max): not a candidate
        return None


def trial_budget(spec: DeploymentSpec, passes: int = 2) -> int:
    """Most simulations `tune` runs: the spec as written plus every knob value in every pass (fewer when a pass
    improves nothing, repeats a cached candidate or the spec's rules reject one) — the total a progress bar counts
    towards."""
    return 1 + passes * sum(len(values) for values in knobs(spec).values())


def tune(spec: DeploymentSpec, workload: Workload, seed: int, dt_s: float, passes: int = 2,
         progress=None) -> tuple[Trial, Trial, list[Trial]]:
    """(baseline trial, best trial, all trials)."""
    assumptions = default_assumptions(spec)
    cache: dict[tuple, Trial] = {}

    def trial(changes: dict[Path_, Any]) -> Trial | None:
        key = tuple(sorted((str(k), str(v)) for k, v in changes.items()))
        if key in cache:
            return cache[key]
        cand = _candidate(spec, changes)
        if cand is None:
            return None
        t = Trial(dict(changes), run_policy(cand, workload, "spec", seed, assumptions, dt_s))
        cache[key] = t
        if progress:
            progress(t)
        return t

    start = trial({})
    assert start is not None
    best = start
    space = knobs(spec)
    for _ in range(passes):
        improved = False
        for path, values in space.items():
            for v in values:
                changes = dict(best.changes)
                if v == _get(spec.model_dump(mode="json"), path):
                    changes.pop(path, None)
                else:
                    changes[path] = v
                t = trial(changes)
                if t is not None and t.better_than(best):
                    best, improved = t, True
        if not improved:
            break
    return start, best, list(cache.values())


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
    for path, value in changes.items():
        _set(doc, path, int(value) if isinstance(value, float) and value.is_integer() else value)
    buf = io.StringIO()
    yaml.dump(doc, buf)
    return text, buf.getvalue()


def yaml_diff(spec_file: Path, changes: dict[Path_, Any]) -> str:
    """The recommended change as a unified diff of the spec file (comments and layout kept)."""
    text, changed = apply_changes(spec_file, changes)
    return "".join(difflib.unified_diff(text.splitlines(keepends=True), changed.splitlines(keepends=True),
                                        fromfile=str(spec_file), tofile=f"{spec_file} (recommended)"))


def write_changes(spec_file: Path, changes: dict[Path_, Any]) -> None:
    """Write the recommended change into the spec file, only once the changed text validates as a spec (a file is
    never left half-changed: the new text goes to a temporary file beside it, then replaces it)."""
    import os

    from llama_infra.spec import parse_spec

    _, changed = apply_changes(spec_file, changes)
    parse_spec(changed, str(spec_file))  # SpecError: nothing is written
    tmp = spec_file.with_name(f".{spec_file.name}.tune")
    tmp.write_text(changed)
    os.replace(tmp, spec_file)
