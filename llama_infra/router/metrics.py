"""The router's Prometheus metrics: queue depth per backend and per priority, outcomes, latency.

These are the queue-depth exporter for servers that do not export one: an HPA (through prometheus-adapter) or KEDA
can scale on `llama_router_backend_queue_depth{backend="primary"}`.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from llama_infra.targets.kubernetes.prometheus_metrics import ROUTER_LAST_REQUEST


class RouterMetrics:
    """One registry per router instance, so several routers can live in one process (tests, benchmarks)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.backend_queue_depth = Gauge(
            "llama_router_backend_queue_depth",
            "Queue depth the router uses for routing, per backend.",
            ["backend"],
            registry=self.registry,
        )
        self.backend_queue_depth_from_metrics = Gauge(
            "llama_router_backend_queue_depth_from_metrics",
            "1 when the backend's queue depth comes from its own metrics, 0 when from the router's in-flight count.",
            ["backend"],
            registry=self.registry,
        )
        self.in_flight_requests = Gauge(
            "llama_router_in_flight_requests",
            "Requests the router has open to each backend, per priority class.",
            ["backend", "priority"],
            registry=self.registry,
        )
        self.overflow_active = Gauge(
            "llama_router_overflow_active",
            "1 while the primary's queue depth is over the overflow threshold.",
            registry=self.registry,
        )
        self.last_request_timestamp = Gauge(
            ROUTER_LAST_REQUEST,
            "Unix time of the last request routed to each backend, set before it is forwarded (a refused request "
            "counts): KEDA wakes a service scaled to zero on it "
            "(llama_infra.targets.kubernetes.prometheus_metrics.recent_request_query).",
            ["backend"],
            registry=self.registry,
        )
        self.waking_requests = Gauge(
            "llama_router_waking_requests",
            "Requests held while their backend refuses connections (no replica yet: waking from zero), per backend; "
            "see RouterConfig.wake_wait_seconds.",
            ["backend"],
            registry=self.registry,
        )
        self.failovers = Counter(
            "llama_router_failovers",
            "Requests sent to the other backend because the chosen one refused the connection (no serving replica).",
            ["from_backend", "to_backend"],
            registry=self.registry,
        )
        self.refused_connections = Counter(
            "llama_router_refused_connections",
            "Client connections answered 503 and closed at once because max_connections were already open.",
            registry=self.registry,
        )
        self.requests = Counter(
            "llama_router_requests",
            "Requests by backend, priority and outcome (ok, client_error, upstream_error, shed, draining, "
            "unauthorized, body_timeout, cut).",
            ["backend", "priority", "outcome"],
            registry=self.registry,
        )
        self.request_duration_seconds = Histogram(
            "llama_router_request_duration_seconds",
            "Time from request to the last byte sent to the client.",
            ["backend", "priority"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
            registry=self.registry,
        )
