"""Scaler adapter for Kubernetes: an HPA (plain or KEDA-made) and the Deployment it scales, over the REST API."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

import aiohttp

from llama_infra.verify.kubeconfig import KubeCredentials
from llama_infra.verify.scaler import ReplicaCounts, ScalerError, ScalingEvent


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class KubernetesHpaScaler:
    """Reads `autoscaling/v2` HorizontalPodAutoscaler `namespace/name`.

    desired = `status.desiredReplicas`; current = the target Deployment's `status.readyReplicas` (pods serving),
    or the HPA's `status.currentReplicas` when the target is not a Deployment. Events are the HPA's own
    (`SuccessfulRescale`, `FailedGetExternalMetric`, ...), which is where a broken metric pipeline shows up.
    """

    def __init__(self, credentials: KubeCredentials, namespace: str, hpa_name: str, timeout_seconds: float = 10) -> None:
        self._credentials = credentials
        self._namespace = namespace
        self._name = hpa_name
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_seconds))
        self.description = f"HorizontalPodAutoscaler {namespace}/{hpa_name} at {credentials.server}"

    async def _get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        url = self._credentials.server + path
        headers = await self._credentials.headers()
        try:
            tls = self._credentials.ssl_context or True
            async with self._session.get(url, headers=headers, params=params, ssl=tls) as r:
                if r.status != 200:
                    raise ScalerError(f"GET {path}: HTTP {r.status}: {(await r.text())[:300]}")
                return await r.json()
        except aiohttp.ClientError as exc:
            raise ScalerError(f"GET {url}: {type(exc).__name__}: {exc}") from exc

    async def _hpa(self) -> dict[str, Any]:
        ns, name = quote(self._namespace), quote(self._name)
        return await self._get(f"/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers/{name}")

    async def min_replicas(self) -> int:
        return int((await self._hpa()).get("spec", {}).get("minReplicas", 1))

    async def replicas(self) -> ReplicaCounts:
        hpa = await self._hpa()
        status = hpa.get("status", {})
        current = int(status.get("currentReplicas", 0))
        target = hpa.get("spec", {}).get("scaleTargetRef", {})
        if target.get("kind") == "Deployment":
            ns, name = quote(self._namespace), quote(target["name"])
            deployment = await self._get(f"/apis/apps/v1/namespaces/{ns}/deployments/{name}")
            current = int(deployment.get("status", {}).get("readyReplicas", 0))
        return ReplicaCounts(desired=int(status.get("desiredReplicas", current)), current=current)

    async def events(self, since: datetime) -> list[ScalingEvent]:
        selector = f"involvedObject.kind=HorizontalPodAutoscaler,involvedObject.name={self._name}"
        listing = await self._get(
            f"/api/v1/namespaces/{quote(self._namespace)}/events", params={"fieldSelector": selector}
        )
        # Event timestamps have whole-second resolution: compare at that resolution.
        since = since.astimezone(timezone.utc).replace(microsecond=0)
        found = []
        for item in listing.get("items", []):
            at = _parse_time(item.get("lastTimestamp") or item.get("eventTime") or item.get("firstTimestamp"))
            if at is not None and at >= since:
                found.append(ScalingEvent(at=at, reason=item.get("reason", ""), message=item.get("message", "")))
        return sorted(found, key=lambda event: event.at)

    async def close(self) -> None:
        await self._session.close()
