"""What `verify` needs from a scaler: its minimum, its replica counts now, and its recent scaling events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class ReplicaCounts:
    desired: int
    """What the autoscaler decided (HPA status.desiredReplicas, SageMaker DesiredInstanceCount)."""
    current: int
    """What is serving (Deployment readyReplicas, SageMaker CurrentInstanceCount)."""


@dataclass(frozen=True)
class ScalingEvent:
    at: datetime
    reason: str
    message: str


class ScalerError(Exception):
    """The scaler's API refused or failed; the message says which object and why."""


class Scaler(Protocol):
    description: str
    """Human name of the scaled object, for the report (`hpa serving/llama-70b`)."""

    async def min_replicas(self) -> int: ...

    async def replicas(self) -> ReplicaCounts: ...

    async def events(self, since: datetime) -> list[ScalingEvent]: ...

    async def close(self) -> None: ...
