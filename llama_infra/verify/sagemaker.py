"""Scaler adapter for a SageMaker real-time endpoint variant and its Application Auto Scaling target."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from llama_infra.verify.scaler import ReplicaCounts, ScalerError, ScalingEvent

VARIANT_DIMENSION = "sagemaker:variant:DesiredInstanceCount"


class SageMakerVariantScaler:
    """desired/current = the variant's `DesiredInstanceCount` / `CurrentInstanceCount` (DescribeEndpoint); minimum =
    the scalable target's `MinCapacity`; events = Application Auto Scaling's scaling activities."""

    def __init__(self, endpoint_name: str, variant_name: str = "AllTraffic", session: Any | None = None) -> None:
        import boto3

        session = session or boto3.session.Session()
        self._sagemaker = session.client("sagemaker")
        self._autoscaling = session.client("application-autoscaling")
        self._endpoint = endpoint_name
        self._variant = variant_name
        self.resource_id = f"endpoint/{endpoint_name}/variant/{variant_name}"
        self.description = f"SageMaker {self.resource_id} ({session.region_name})"

    async def _call(self, function: Any, **kwargs: Any) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return await asyncio.to_thread(function, **kwargs)
        except (BotoCoreError, ClientError) as exc:
            raise ScalerError(f"{function.__name__} for {self.resource_id}: {exc}") from exc

    async def min_replicas(self) -> int:
        found = await self._call(
            self._autoscaling.describe_scalable_targets,
            ServiceNamespace="sagemaker",
            ResourceIds=[self.resource_id],
            ScalableDimension=VARIANT_DIMENSION,
        )
        targets = found.get("ScalableTargets", [])
        if not targets:
            raise ScalerError(
                f"{self.resource_id} is not registered with Application Auto Scaling; nothing scales it "
                "(deploy the stack's autoscaling, or check --endpoint-name/--variant)"
            )
        return int(targets[0]["MinCapacity"])

    async def replicas(self) -> ReplicaCounts:
        endpoint = await self._call(self._sagemaker.describe_endpoint, EndpointName=self._endpoint)
        for variant in endpoint.get("ProductionVariants", []):
            if variant.get("VariantName") == self._variant:
                current = int(variant.get("CurrentInstanceCount", 0))
                return ReplicaCounts(desired=int(variant.get("DesiredInstanceCount", current)), current=current)
        names = [v.get("VariantName") for v in endpoint.get("ProductionVariants", [])]
        raise ScalerError(f"endpoint {self._endpoint} has no variant {self._variant!r} (it has {names})")

    async def events(self, since: datetime) -> list[ScalingEvent]:
        found = await self._call(
            self._autoscaling.describe_scaling_activities,
            ServiceNamespace="sagemaker",
            ResourceId=self.resource_id,
            ScalableDimension=VARIANT_DIMENSION,
        )
        events = [
            ScalingEvent(
                at=activity["StartTime"], reason=activity.get("StatusCode", ""), message=activity["Description"]
            )
            for activity in found.get("ScalingActivities", [])
            if activity["StartTime"] >= since
        ]
        return sorted(events, key=lambda event: event.at)

    async def close(self) -> None:
        return None
