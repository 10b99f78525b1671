"""The predictive floor follows the load: the scheduled floor scaled by the observed request rate over the forecast.

The predictive floor (`slo_targets.predictive_floor`) is sized for the daily shape at the stated peak. On a day when
the traffic runs below the forecast — a quiet week, a holiday, half the stated peak — a floor held at the forecast
keeps the fleet sized for traffic that does not come: at half the stated peak, prod's floor ran about twice the
replicas the load needed. So the floor in force is the scheduled one scaled by how the load compares with the
forecast right now:

    floor = min(scheduled, ceil(scheduled × min(1, observed_rps × (1 + margin) / forecast_rps)))

- `observed_rps`: requests per second that reached the service over the trailing `WINDOW_S` (half an hour: long
  enough that a minute's noise does not move the floor, short enough to see a quiet morning before its ramp);
- `forecast_rps`: the daily shape × the stated peak for the local hour (what the schedule carries with the floor);
- `margin`: how far below the forecast the load may run before the floor falls (10 %: the day-to-day spread of the
  shared week's busiest hours around its shape);
- never above the scheduled floor: a load above the forecast is the autoscaler's to follow (its targets carry the
  envelope), and the floor stays what the plan shows as its most. Where there is no forecast (0), the scheduled
  floor holds unchanged. The configuration's own minimum still applies beneath (the caller's limits).

Replicas are sub-linear in the rate (a fleet shares its prefill, `slo_envelope.replicas_for`), so scaling the
replicas by the rate ratio errs on the warm side.

Shipped verbatim with the SageMaker reconciler's Lambda (stdlib only): the reconciler, the KEDA formula and the
simulator apply this one rule.
"""

from __future__ import annotations

import math

WINDOW_S = 1800  # the trailing window the observed request rate is averaged over
MARGIN = 0.1  # the load may run this far below the forecast before the floor falls


def following_floor(scheduled: int, observed_rps: float, forecast_rps: float, margin: float = MARGIN) -> int:
    """The floor in force: `scheduled` scaled by `observed_rps × (1 + margin) / forecast_rps`, at most `scheduled`
    (see the module docstring); `scheduled` itself without a forecast."""
    if scheduled <= 0 or forecast_rps <= 0:
        return max(0, scheduled)
    ratio = min(1.0, max(0.0, observed_rps) * (1 + margin) / forecast_rps)
    return min(scheduled, math.ceil(scheduled * ratio - 1e-9))
