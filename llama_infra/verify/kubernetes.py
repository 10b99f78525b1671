"""Scaler adapter for Kubernetes: an HPA (plain or KEDA-made) and the Deployment it scales, through
kubernetes_asyncio's typed API clients."""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp

from llama_infra.verify.kubeconfig import KubeconfigError, KubeConnection
from llama_infra.verify.scaler import ReplicaCounts, ScalerError, ScalingEvent


class KubernetesHpaScaler:
    """Reads `autoscaling/v2` HorizontalPodAutoscaler `namespace/name`.

    desired = `status.desiredReplicas`; current = the target Deployment's `status.readyReplicas` (pods serving),
    or the HPA's `status.currentReplicas` when the target is not a Deployment. Events are the HPA's own
    (`SuccessfulRescale`, `FailedGetExternalMetric`, ...), which is where a broken metric pipeline shows up.
    """

    def __init__(self, connection: KubeConnection, namespace: str, hpa_name: str, timeout_seconds: float = 10) -> None:
        self._connection = connection
        self._namespace = namespace
        self._name = hpa_name
        self._timeout_seconds = timeout_seconds
        self._api: Any = None
        self.description = f"HorizontalPodAutoscaler {namespace}/{hpa_name} at {connection.server}"

    async def _client(self) -> Any:
        if self._api is None:
            from kubernetes_asyncio import client

            try:
                configuration = await self._connection.client_configuration()
            except KubeconfigError as exc:
                raise ScalerError(str(exc)) from exc
            self._api = client.ApiClient(configuration)
        return self._api

    async def _call(self, what: str, method: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        from kubernetes_asyncio.client.exceptions import ApiException

        try:
            return await method(*args, _request_timeout=self._timeout_seconds, **kwargs)
        except ApiException as exc:
            raise ScalerError(f"GET {what}: HTTP {exc.status}: {str(exc.body or exc.reason)[:300]}") from exc
        except (TimeoutError, aiohttp.ClientError, ssl.SSLError) as exc:
            raise ScalerError(f"GET {what} at {self._connection.server}: {type(exc).__name__}: {exc}") from exc

    async def _hpa(self) -> Any:
        from kubernetes_asyncio import client

        api = client.AutoscalingV2Api(await self._client())
        return await self._call(
            f"/apis/autoscaling/v2/namespaces/{self._namespace}/horizontalpodautoscalers/{self._name}",
            api.read_namespaced_horizontal_pod_autoscaler,
            self._name,
            self._namespace,
        )

    async def min_replicas(self) -> int:
        spec = (await self._hpa()).spec
        return int(spec.min_replicas if spec is not None and spec.min_replicas is not None else 1)

    async def replicas(self) -> ReplicaCounts:
        from kubernetes_asyncio import client

        hpa = await self._hpa()
        status = hpa.status
        current = int(status.current_replicas or 0) if status else 0
        target = hpa.spec.scale_target_ref if hpa.spec else None
        if target is not None and target.kind == "Deployment":
            apps = client.AppsV1Api(await self._client())
            deployment = await self._call(
                f"/apis/apps/v1/namespaces/{self._namespace}/deployments/{target.name}",
                apps.read_namespaced_deployment,
                target.name,
                self._namespace,
            )
            current = int(deployment.status.ready_replicas or 0) if deployment.status else 0
        desired = status.desired_replicas if status and status.desired_replicas is not None else current
        return ReplicaCounts(desired=int(desired), current=current)

    async def events(self, since: datetime) -> list[ScalingEvent]:
        from kubernetes_asyncio import client

        core = client.CoreV1Api(await self._client())
        selector = f"involvedObject.kind=HorizontalPodAutoscaler,involvedObject.name={self._name}"
        listing = await self._call(
            f"/api/v1/namespaces/{self._namespace}/events",
            core.list_namespaced_event,
            self._namespace,
            field_selector=selector,
        )
        # Event timestamps have whole-second resolution: compare at that resolution.
        since = since.astimezone(UTC).replace(microsecond=0)
        found = []
        for item in listing.items or []:
            at = item.last_timestamp or item.event_time or item.first_timestamp
            if at is not None and at >= since:
                found.append(ScalingEvent(at=at, reason=item.reason or "", message=item.message or ""))
        return sorted(found, key=lambda event: event.at)

    async def close(self) -> None:
        if self._api is not None:
            await self._api.close()
