"""Overflow router: an OpenAI-compatible proxy in front of a primary model and a smaller fallback.

Routes normal and low priority traffic to the fallback while the primary's queue depth is over the spec's
`fallback.when_queue_depth_over`, never overflows or sheds high-priority tenants, sheds low priority first under
overload, exports queue depth per backend and priority, and drains open streams on SIGTERM.
"""

from llama_infra.router.config import BackendConfig, FallbackConfig, Priority, RouterConfig

__all__ = ["BackendConfig", "FallbackConfig", "Priority", "RouterConfig"]
