"""Fixtures of the verify tests: a fake Kubernetes HPA on loopback that scales a fake backend.

Everything listens on 127.0.0.1 with port 0; nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from aiohttp import web


class FakeKubernetesHpa:
    """A Kubernetes API server on loopback whose one HPA follows HPA semantics against a fake backend.

    Every `sync_period_seconds` (the controller's 15 s, scaled down): metric = backend queue (waiting + running)
    per current replica; desired = ceil(current * metric / target) unless within `tolerance` (0.1) of the target;
    scale-up limited to max(4 pods, 100 %) per period; clamped to [min, max]; scale-down takes the highest
    recommendation of the last `scale_down_stabilization_seconds`.
    `decision_delay_seconds` makes the controller blind for that long after it first sees a queue (a late scale-up);
    `ready_delay_seconds` is how long a new replica takes to serve. Serving replicas become the backend's capacity.

    Every duration is on the fake cluster's own clock, `clock()`: sync periods elapsed × the period. A test passes it
    to the verification (`run_verification(..., clock=hpa.clock)`), so that on a busy machine the controller and the
    procedure slow down together and "scaled up within 0.6 s" means 12 controller periods, not wall time.
    """

    def __init__(
        self,
        backend,
        *,
        min_replicas: int = 1,
        max_replicas: int = 4,
        target_per_replica: float = 2,
        sync_period_seconds: float = 0.05,
        scale_down_stabilization_seconds: float = 0.3,
        ready_delay_seconds: float = 0.1,
        decision_delay_seconds: float = 0.0,
        token: str = "fake-token",
        tolerance: float = 0.1,
    ) -> None:
        self.backend = backend
        self.min_replicas, self.max_replicas = min_replicas, max_replicas
        self.target = target_per_replica
        self.sync_period = sync_period_seconds
        self.stabilization = scale_down_stabilization_seconds
        self.ready_delay = ready_delay_seconds
        self.decision_delay = decision_delay_seconds
        self.token = token
        self.tolerance = tolerance
        self.desired = min_replicas
        self.ready = min_replicas
        self.syncs = 0
        self.first_queue_at: float | None = None  # cluster time of the first sync that saw a queue
        self.becoming_ready: tuple[float, int] | None = None  # (cluster time, replicas)
        self.recommendations: list[tuple[float, int]] = []
        self.events: list[dict] = []
        self.url = ""
        backend.set_replicas(min_replicas)

    def recommend(self, current: int, total_metric: float) -> int:
        ratio = (total_metric / max(current, 1)) / self.target
        if abs(ratio - 1.0) <= self.tolerance:
            return current
        # Default scale-up policy: at most max(4 pods, 100 %) more per period.
        proposed = min(math.ceil(current * ratio), max(current + 4, 2 * current))
        return max(self.min_replicas, min(self.max_replicas, proposed))

    def clock(self) -> float:
        """The cluster's time in seconds: controller sync periods elapsed × the period."""
        return self.syncs * self.sync_period

    async def _control_loop(self) -> None:
        while True:
            await asyncio.sleep(self.sync_period)
            self.syncs += 1
            now = self.clock()
            if self.becoming_ready is not None and now >= self.becoming_ready[0]:
                self._become_ready(self.becoming_ready[1])
                self.becoming_ready = None
            queue = self.backend.waiting + self.backend.running
            if self.first_queue_at is None and queue > 0:
                self.first_queue_at = now
            if self.first_queue_at is None or now - self.first_queue_at < self.decision_delay:
                continue
            raw = self.recommend(self.desired, queue)
            self.recommendations = [(t, r) for t, r in self.recommendations if now - t <= self.stabilization]
            self.recommendations.append((now, raw))
            desired = raw if raw >= self.desired else max(r for _, r in self.recommendations)
            if desired != self.desired:
                direction = "above" if desired > self.desired else "below"
                self.events.append(
                    {  # the fields the Events API always returns (a real client reads them strictly)
                        "metadata": {"name": f"llama.{len(self.events)}", "namespace": "serving"},
                        "involvedObject": {"kind": "HorizontalPodAutoscaler", "name": "llama"},
                        "reason": "SuccessfulRescale",
                        "message": f"New size: {desired}; reason: queue depth {direction} target",
                        "lastTimestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    }
                )
                self.desired = desired
                self.becoming_ready = (now + self.ready_delay, desired)

    def _become_ready(self, replicas: int) -> None:
        if replicas == self.desired:
            self.ready = replicas
            self.backend.set_replicas(replicas)

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.token}"

    async def _hpa(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"kind": "Status", "code": 401, "message": "Unauthorized"}, status=401)
        if request.match_info["name"] != "llama":
            return web.json_response({"kind": "Status", "code": 404}, status=404)
        return web.json_response(
            {
                "spec": {
                    "minReplicas": self.min_replicas,
                    "maxReplicas": self.max_replicas,
                    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "llama-server"},
                },
                "status": {"currentReplicas": self.desired, "desiredReplicas": self.desired},
            }
        )

    async def _deployment(self, request: web.Request) -> web.Response:
        if not self._authorized(request) or request.match_info["name"] != "llama-server":
            return web.json_response({"kind": "Status"}, status=404)
        return web.json_response({"status": {"replicas": self.desired, "readyReplicas": self.ready}})

    async def _events(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"kind": "Status"}, status=401)
        assert "involvedObject.name=llama" in request.query["fieldSelector"]
        return web.json_response({"items": self.events})

    @asynccontextmanager
    async def serve(self) -> AsyncIterator[FakeKubernetesHpa]:
        app = web.Application()
        app.router.add_get("/apis/autoscaling/v2/namespaces/serving/horizontalpodautoscalers/{name}", self._hpa)
        app.router.add_get("/apis/apps/v1/namespaces/serving/deployments/{name}", self._deployment)
        app.router.add_get("/api/v1/namespaces/serving/events", self._events)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site.port}"
        control = asyncio.create_task(self._control_loop())
        try:
            yield self
        finally:
            control.cancel()
            await asyncio.gather(control, return_exceptions=True)
            await runner.cleanup()

    def kubeconfig(self, path) -> None:
        path.write_text(
            "apiVersion: v1\nkind: Config\ncurrent-context: fake\n"
            f"clusters: [{{name: fake, cluster: {{server: '{self.url}'}}}}]\n"
            f"users: [{{name: fake, user: {{token: {self.token}}}}}]\n"
            "contexts: [{name: fake, context: {cluster: fake, user: fake, namespace: serving}}]\n"
        )


@pytest.fixture
def fake_hpa():
    """`FakeKubernetesHpa(backend, ...)`: see its docstring."""
    return FakeKubernetesHpa
