"""Fixtures of the downsizing tests: `aws` is moto completed with UpdateEndpoint (see downsizing_world.py)."""

from downsizing_world import aws  # noqa: F401  (pytest fixture)
