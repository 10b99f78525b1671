"""The predictive floor's load-following rule, as the reconciler applies it (`llama_infra.scaling.floor_follow`).

In the repository this module re-exports the rule; the function's archive (`components/downsizing.workflow_code`)
ships `llama_infra/scaling/floor_follow.py` itself in its place (stdlib only), so the reconciler, the KEDA formula
and the simulator apply one rule.
"""

from llama_infra.scaling.floor_follow import MARGIN, WINDOW_S, following_floor

__all__ = ["MARGIN", "WINDOW_S", "following_floor"]
