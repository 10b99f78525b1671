"""The predictive floor follows the load: the replicas the observed request rate needs, against the forecast.

The predictive floor (`slo_targets.predictive_floor`) is sized for the daily shape at the stated peak. On a day when
the traffic runs below the forecast — a quiet week, a holiday, half the stated peak — a floor held at the forecast
keeps the fleet sized for traffic that does not come: at half the stated peak, prod's floor ran about twice the
replicas the load needed. So the floor in force follows how the load compares with the forecast right now:

    ratio = min(1, observed_rps × (1 + margin) / forecast_rps)

- `observed_rps`: requests per second that reached the service over the trailing `WINDOW_S` (half an hour: long
  enough that a minute's noise does not move the floor, short enough to see a quiet morning before its ramp);
- `forecast_rps`: the daily shape × the stated peak for the local hour (what the schedule carries with the floor);
- `margin`: how far below the forecast the load may run before the floor falls (10 %: how far the ratio of load to
  forecast rises from one half hour to the next in nine half hours of ten, over the shared week's weekday hours at
  half the shape's peak or more — measured in tests/scaling/test_floor_follow.py; the tenth is the autoscaler's);
- never above the scheduled floor: a load above the forecast is the autoscaler's to follow (its targets carry the
  envelope), and the floor stays what the plan shows as its most. Where there is no forecast (0), the scheduled
  floor holds unchanged. The configuration's own minimum still applies beneath (the caller's limits).

The floor in force is then, where the schedule carries the hour's **capacity steps** (`carries_rps`: for n = 1, 2,
…, scheduled − 1 replicas, the load they carry at SLO, in the hour's forecast's terms:
`slo_targets.FloorHour.carries_rps`), the fewest replicas that carry `forecast_rps × ratio` — the rule the scheduled
floor itself was sized by (`slo_envelope.replicas_for`), applied to the load as it comes:

    floor = min(scheduled, 1 + #{n : carries_rps[n] < forecast_rps × ratio})    (0 where the ratio is 0)

Without the steps (the KEDA formula, which has no table to look them up in), the scheduled floor scaled by the ratio:

    floor = min(scheduled, ceil(scheduled × ratio))

The two differ because replicas are not proportional to the rate: a fleet shares its prefill
(`slo_envelope.replicas_for`), so fewer replicas carry a lower load less well each, and the scheduled floor is a
whole number of replicas sized for the hour's busiest minute of the look-ahead. Scaling it by the ratio keeps that
rounding (prod at 20 requests/s: 5 replicas sized for 16.2 requests/s held at 5 when 14 came, which 4 carry) and
undercounts where the ratio is low (prod-eks: 6 of 10 at 60 % of the forecast, where 7 carry it).

Shipped verbatim with the SageMaker reconciler's Lambda (stdlib only): the reconciler, the KEDA formula (in its
proportional form) and the simulator apply this one rule.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

WINDOW_S = 1800  # the trailing window the observed request rate is averaged over
MARGIN = 0.1  # the load may run this far below the forecast before the floor falls (p90 of its half-hour rise)


def following_floor(
    scheduled: int,
    observed_rps: float,
    forecast_rps: float,
    margin: float = MARGIN,
    carries_rps: Sequence[float] = (),
) -> int:
    """The floor in force: the fewest replicas whose `carries_rps` step holds `forecast_rps × ratio`, or without
    steps `scheduled` scaled by the ratio; at most `scheduled`, and `scheduled` itself without a forecast (see the
    module docstring)."""
    if scheduled <= 0 or forecast_rps <= 0:
        return max(0, scheduled)
    ratio = min(1.0, max(0.0, observed_rps) * (1 + margin) / forecast_rps)
    if not carries_rps:
        return min(scheduled, math.ceil(scheduled * ratio - 1e-9))
    load = forecast_rps * ratio
    if load <= 0:
        return 0
    return min(scheduled, 1 + sum(1 for c in carries_rps if c < load - 1e-9))
