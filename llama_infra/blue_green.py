"""SageMaker blue/green deployment timing: the facts the endpoint's deployment config, the downsizing workflow's
budgets and the spec's window rules share.

A blue/green update brings up the new fleet (provisioning + the model's cold start), sends it traffic and watches
the rollback alarms for the bake time (`WaitIntervalInSeconds`, after the canary and again before the rest of the
traffic moves), then keeps the old fleet for `TerminationWaitInSeconds` so a late alarm still rolls back quickly
(SageMaker's "Blue/Green Deployments" guide: canary traffic shifting, auto-rollback configuration).
"""

from __future__ import annotations

BAKE_TIME_S = 600  # blue/green: watch the alarms this long on the new fleet before shifting all traffic
OLD_FLEET_WAIT_S = 300  # keep the old fleet this long after the shift, for a fast rollback


def bake_s() -> int:
    """Seconds from the new fleet serving to the update done (the endpoint InService again): the bake (after the
    canary, or after the all-at-once shift), then the old fleet's wait."""
    return BAKE_TIME_S + OLD_FLEET_WAIT_S
