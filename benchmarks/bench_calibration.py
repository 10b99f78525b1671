"""Replica-model calibration: the error of every published measurement in the calibration table.

One row per measured number (TTFT, ITL, throughput, TGI's ms/token, request latency) of every point in
`llama_infra/data/calibration/replica_measurements.csv`: measured, predicted by the replica model's closed-loop load
test (`llama_infra.sim.calibration`), the error, and whether the point misses ±25 % (with the table's reason).

    python -m benchmarks bench_calibration                 # the error table
    python -m benchmarks.bench_calibration --fit           # refit the efficiency constants (needs scipy) and print them

`--fit` minimises a robust (soft-L1) sum of squared log errors over the points without a `miss_reason`, varying the
fitted constants of `llama_infra/sim/replica_model.py`; paste what it prints into that module.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys


def run() -> list[dict]:
    from llama_infra.sim.calibration import TOLERANCE, errors

    rows: list[dict] = []
    for e in errors():
        m = e.measurement
        for metric, err in e.errors.items():
            rows.append(
                {
                    "benchmark": "calibration",
                    "case": m.point_id,
                    "metric": metric,
                    "measured": m.measured[metric],
                    "predicted": round(getattr(e.predicted, metric), 3),
                    "error_ratio": round(err, 3),
                    "within_25pct": abs(err) <= TOLERANCE,
                    "point": "hit" if e.hit else ("miss (reason in table)" if m.miss_reason else "MISS"),
                }
            )
    points = errors()
    misses = [e for e in points if not e.hit]
    log_errors = [abs(math.log1p(v)) for e in points for v in e.errors.values()]
    rows.append(
        {
            "benchmark": "calibration",
            "case": f"{len(points)} points, {len(misses)} miss ±25 %",
            "metric": "median |error|",
            "error_ratio": round(math.expm1(sorted(log_errors)[len(log_errors) // 2]), 3),
        }
    )
    return rows


def _parameters():
    """(name, read, write, lower, upper) of every fitted constant. Bounds are physical: no kernel streams HBM above
    ~90 % or reaches more than ~80 % of dense tensor FLOPS."""
    from llama_infra.sim import replica_model as rm

    def module(name):
        return (name, lambda: getattr(rm, name), lambda v: setattr(rm, name, v))

    def item(table, key, label):
        return (label, lambda: getattr(rm, table)[key], lambda v: getattr(rm, table).__setitem__(key, v))

    def framework(fw, field):
        return (
            f"FRAMEWORKS[{fw!r}].{field}",
            lambda: getattr(rm.FRAMEWORKS[fw], field),
            lambda v: rm.FRAMEWORKS.__setitem__(fw, dataclasses.replace(rm.FRAMEWORKS[fw], **{field: v})),
        )

    def allreduce(itypes):  # instances with the same GPU layout share one bandwidth
        def write(v):
            rm.ALLREDUCE_GB_S.update(dict.fromkeys(itypes, v))

        return (f"ALLREDUCE_GB_S[{itypes[0]!r}]", lambda: rm.ALLREDUCE_GB_S[itypes[0]], write)

    specs = [
        (module("DECODE_BANDWIDTH_EFFICIENCY"), 0.3, 0.9),
        (module("DECODE_COMPUTE_EFFICIENCY"), 0.1, 0.8),
        (item("PREFILL_MFU", "bf16", "PREFILL_MFU['bf16']"), 0.1, 0.8),
        (item("PREFILL_MFU", "fp8", "PREFILL_MFU['fp8']"), 0.1, 0.8),
        (module("PREFILL_INTERFERENCE"), 0.0, 1.0),
        (module("W4_DECODE_EFFICIENCY"), 0.2, 1.0),
        (module("TRITON_W4_CYCLES_PER_K"), 0.0, 500.0),
        (framework("tgi", "allreduce_overhead_s"), 0.0, 5e-4),
        (framework("tgi", "sequence_overhead_s"), 0.0, 5e-3),
    ]
    specs += [(framework(fw, "layer_overhead_s"), 0.0, 5e-4) for fw in sorted(rm.FRAMEWORKS)]
    specs += [(allreduce(("g5.12xlarge", "g5.24xlarge")), 0.5, 32.0), (allreduce(("g5.48xlarge",)), 0.5, 32.0)]
    return [(name, read, write, lo, hi) for (name, read, write), lo, hi in specs]


def fit() -> dict[str, float]:
    import numpy as np
    from scipy.optimize import least_squares

    from llama_infra.sim import replica_model as rm
    from llama_infra.sim.calibration import errors, load_measurements

    points = [m for m in load_measurements() if not m.miss_reason]
    params = _parameters()

    def apply(x):
        for (_, _, write, _, _), v in zip(params, x, strict=True):
            write(float(v))
        rm.replica_perf.cache_clear()

    def residuals(x):
        apply(x)
        return np.array([math.log1p(v) for e in errors(points) for v in e.errors.values()])

    x0 = [min(max(read(), lo), hi) for _, read, _, lo, hi in params]
    result = least_squares(
        residuals, x0, bounds=([p[3] for p in params], [p[4] for p in params]), loss="soft_l1", f_scale=0.2
    )
    apply(result.x)
    return {name: float(f"{v:.3g}") for (name, *_), v in zip(params, result.x, strict=True)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_calibration", description=__doc__.splitlines()[0])
    parser.add_argument("--fit", action="store_true", help="refit the replica model's constants (needs scipy)")
    args = parser.parse_args(argv)
    if args.fit:
        for name, value in fit().items():
            print(f"{name} = {value}")
    for row in run():
        print({k: v for k, v in row.items() if k != "benchmark"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
