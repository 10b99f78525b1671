"""Where SageMaker publishes an endpoint's CloudWatch metrics: the namespace and dimensions of each metric, per kind.

The two kinds of endpoint this library builds publish the same metric names under different dimensions: a classic
variant (`EndpointMetrics.variant`) under `EndpointName, VariantName`; an inference-component endpoint (scale to
zero, `EndpointMetrics.inference_component`) under `InferenceComponentName` for the model's own metrics, with its
utilisation per copy in a namespace of its own. The endpoint's alarms, its dashboard and the scale-to-zero wake-up
alarm all take namespace and dimensions from here; no component writes a dimension name. An unknown metric name, or one
the endpoint kind does not publish, is
refused (a typo in a dimension or metric name is accepted by CloudWatch and leaves an alarm in INSUFFICIENT_DATA
for ever).

Source (read with the search tool): Amazon SageMaker AI Developer Guide, "Amazon SageMaker AI metrics in Amazon
CloudWatch", docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html:
- "SageMaker AI endpoint invocation metrics": namespace `AWS/SageMaker` (Invocations, Invocation4XXErrors,
  Invocation5XXErrors, ModelLatency in µs, ConcurrentRequestsPerModel, ConcurrentRequestsPerCopy,
  InvocationsPerCopy, …); dimensions `EndpointName, VariantName` ("for a ProductionVariant") or
  `InferenceComponentName` ("filters inference component invocation metrics").
- "SageMaker AI inference component metrics": namespace `/aws/sagemaker/InferenceComponents`,
  CPU/GPU/GPU-memory/memory `…UtilizationNormalized` "reported by each copy of the inference component" (0–100 %
  of the copy's reservation); dimension `InferenceComponentName`.
- "SageMaker AI endpoint metrics": namespace `/aws/sagemaker/Endpoints`, the instances' CPUUtilization,
  MemoryUtilization, DiskUtilization, GPUUtilization and GPUMemoryUtilization (summed over the instance's GPUs:
  0–100 × GPUs); the `…Normalized` (0–100 %) and `…Reservation` metrics "only for endpoints that host active
  inference components"; dimensions `EndpointName, VariantName` for both kinds.
- NoCapacityInvocationFailures (`AWS/SageMaker`, `InferenceComponentName`): the wake-up signal of "Scale an endpoint
  to zero instances", docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-zero-instances.html.

GPU memory is allocation, not load (`PREALLOCATED_GPU_MEMORY`, `Metric.follows_load`): the page defines
GPUMemoryUtilization as the percentage of GPU memory used by the containers on the instance (the `…Normalized` form
per copy) — framebuffer the processes hold, not memory the requests use. Every server this library deploys
takes about 90 % of it at start and keeps it, busy or idle:
- vLLM (and LMI's vLLM backend, `OPTION_ROLLING_BATCH=vllm`): `gpu_memory_utilization`, "the ratio (between 0 and 1)
  of GPU memory to reserve for the model weights, activations, and KV cache", default 0.9 (docs.vllm.ai, API of
  `vllm.LLM` / engine arguments; LMI passes `option.gpu_memory_utilization` through, docs.djl.ai, LMI "Container and
  Model Configurations" and the vLLM backend user guide);
- TensorRT-LLM (LMI's TRT-LLM backend): the KV cache is pre-allocated at start from a fraction of free memory
  (`kv_cache_free_gpu_mem_fraction`, default 0.9; nvidia.github.io/TensorRT-LLM, "Memory Usage of TensorRT-LLM");
- TGI: allocates its KV blocks at warm-up (`llama_infra.targets.kubernetes.prometheus_metrics`: the EKS path knows it
  too).
So the metric reads ~90 % (× GPUs on a variant) from the first minute whatever the traffic. A target-tracking policy
on it sits above any target below that fraction — it scales out to max and, because Application Auto Scaling scales
in only when every policy agrees, never lets the endpoint scale in — and never crosses a target above it. SageMaker's
CloudWatch metrics have no KV-cache-in-use signal (EKS reads vLLM's `vllm:kv_cache_usage_perc`), so on SageMaker GPU
memory is watched (dashboard) and never scaled on; concurrent requests per model / per copy is the only signal.

Statistics: the same page gives each invocation metric its "Valid statistics" (`VALID_STATISTICS`, in CloudWatch's
API names); an alarm or dashboard row on a statistic the page does not list for the metric is refused
(`Metric.accepts`). ConcurrentRequestsPerModel and ConcurrentRequestsPerCopy: "Valid statistics: Min, Max" only —
not Average, so the queue alarm reads `EndpointMetrics.queue_statistic` (Maximum). The utilisation metrics list
units (Percent) but no statistics; AWS's own target-tracking examples on them use Average. A target-tracking
policy on a *predefined* metric (`SageMakerVariantConcurrentRequestsPerModelHighResolution`, …) names no statistic:
Application Auto Scaling picks it.
"""

from __future__ import annotations

from dataclasses import dataclass

INVOCATIONS_NAMESPACE = "AWS/SageMaker"
INSTANCES_NAMESPACE = "/aws/sagemaker/Endpoints"
COPIES_NAMESPACE = "/aws/sagemaker/InferenceComponents"

# AWS/SageMaker, published for both kinds (under the kind's dimensions).
INVOCATION_METRICS = frozenset(
    {
        "Invocations",
        "Invocation4XXErrors",
        "Invocation5XXErrors",
        "InvocationModelErrors",
        "ModelLatency",
        "OverheadLatency",
    }
)
# AWS/SageMaker, one kind only.
VARIANT_INVOCATION_METRICS = frozenset({"ConcurrentRequestsPerModel", "InvocationsPerInstance"})
COMPONENT_INVOCATION_METRICS = frozenset(
    {"ConcurrentRequestsPerCopy", "InvocationsPerCopy", "NoCapacityInvocationFailures"}
)
# /aws/sagemaker/Endpoints (EndpointName, VariantName), both kinds; the second set on inference-component endpoints.
INSTANCE_METRICS = frozenset(
    {"CPUUtilization", "MemoryUtilization", "DiskUtilization", "GPUUtilization", "GPUMemoryUtilization"}
)
COMPONENT_INSTANCE_METRICS = frozenset(
    {
        "CPUUtilizationNormalized",
        "GPUUtilizationNormalized",
        "GPUMemoryUtilizationNormalized",
        "CPUReservation",
        "GPUReservation",
        "MemoryReservation",
    }
)
# /aws/sagemaker/InferenceComponents (InferenceComponentName): per copy, 0–100 % of the copy's reservation.
COPY_METRICS = frozenset(
    {
        "CPUUtilizationNormalized",
        "GPUUtilizationNormalized",
        "GPUMemoryUtilizationNormalized",
        "MemoryUtilizationNormalized",
    }
)

# "Valid statistics" per metric, as the page above lists them (Min/Max/Sample Count → CloudWatch's API names);
# "Percentiles" → any `pNN` extended statistic. A metric absent here has no statistics documented.
_PERCENTILES = "Percentiles"
VALID_STATISTICS: dict[str, frozenset[str]] = {
    "ConcurrentRequestsPerModel": frozenset({"Minimum", "Maximum"}),
    "ConcurrentRequestsPerCopy": frozenset({"Minimum", "Maximum"}),
    "Invocation4XXErrors": frozenset({"Average", "Sum"}),
    "Invocation5XXErrors": frozenset({"Average", "Sum"}),
    "InvocationModelErrors": frozenset({"Average", "Sum"}),
    "Invocations": frozenset({"Sum"}),
    "InvocationsPerCopy": frozenset({"Sum"}),
    "InvocationsPerInstance": frozenset({"Sum"}),
    "ModelLatency": frozenset({"Average", "Sum", "Minimum", "Maximum", "SampleCount", _PERCENTILES}),
    "OverheadLatency": frozenset({"Average", "Sum", "Minimum", "Maximum", "SampleCount"}),
}
# The statistic of the queue signal in alarms and dashboards: of the two AWS documents, the busiest model (or copy)
# in the period. (Minimum would read the least-loaded one, which stays low while one model is swamped.)
QUEUE_STATISTIC = "Maximum"
# Framebuffer the model servers allocate at start (module docstring): constant under load, so not a scaling signal.
PREALLOCATED_GPU_MEMORY = frozenset({"GPUMemoryUtilization", "GPUMemoryUtilizationNormalized"})
# Why, in one line: the spec's warning and `llama-infra plan` print it.
GPU_MEMORY_NOT_A_SCALING_SIGNAL = (
    "its GPU memory metrics count memory allocated, and vLLM, LMI, TensorRT-LLM and TGI allocate ~90 % at start "
    "(vLLM's gpu_memory_utilization defaults to 0.9), so they read ~90 % idle or busy: a policy on them would scale "
    "out to max and never scale in"
)


@dataclass(frozen=True)
class Metric:
    """One CloudWatch metric: namespace, name and dimensions (in the order the renderings keep)."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]

    @property
    def valid_statistics(self) -> frozenset[str] | None:
        """The statistics AWS documents for this metric (API names, `Percentiles` for `pNN`); None: none listed."""
        return VALID_STATISTICS.get(self.name)

    def accepts(self, statistic: str) -> bool:
        """Whether AWS documents `statistic` (`Maximum`, `Sum`, …, or an extended `p99`) for this metric."""
        valid = self.valid_statistics
        if valid is None:
            return True
        if statistic[:1] == "p" and statistic[1:].replace(".", "", 1).isdigit():
            return _PERCENTILES in valid
        return statistic in valid

    @property
    def follows_load(self) -> bool:
        """False for GPU memory (`PREALLOCATED_GPU_MEMORY`): allocated at start, it does not move with the traffic, so
        no scaling policy may track it."""
        return self.name not in PREALLOCATED_GPU_MEMORY

    @property
    def dimension_map(self) -> dict[str, str]:
        """`dimensions=` of `aws.cloudwatch.MetricAlarm`."""
        return dict(self.dimensions)

    @property
    def api_dimensions(self) -> list[dict[str, str]]:
        """The AWS API's form (`PutMetricAlarm`, a scaling policy's `CustomizedMetricSpecification`)."""
        return [{"Name": k, "Value": v} for k, v in self.dimensions]

    def dashboard_row(self, options: dict | None = None) -> list:
        """One entry of a dashboard widget's `metrics`: `[namespace, name, dim, value, …, {options}]`."""
        row: list = [self.namespace, self.name, *(x for pair in self.dimensions for x in pair)]
        return [*row, options] if options else row


@dataclass(frozen=True)
class EndpointMetrics:
    """Where one endpoint's metrics live; build it with `variant(…)` or `inference_component(…)`."""

    endpoint_name: str
    variant_name: str
    inference_component_name: str | None = None

    @classmethod
    def variant(cls, endpoint_name: str, variant_name: str) -> EndpointMetrics:
        """A classic endpoint: the model on the production variant."""
        return cls(endpoint_name, variant_name)

    @classmethod
    def inference_component(cls, endpoint_name: str, variant_name: str, component_name: str) -> EndpointMetrics:
        """A model-less endpoint whose model runs as the inference component `component_name`."""
        if not component_name:
            raise ValueError("an inference-component endpoint needs the component's name")
        return cls(endpoint_name, variant_name, component_name)

    @property
    def on_inference_component(self) -> bool:
        return self.inference_component_name is not None

    @property
    def queue_metric_name(self) -> str:
        """Concurrent requests (in flight + queued) per serving unit: per model on a variant, per copy on a
        component (the metrics behind the queue-depth scaling policies' predefined high-resolution metrics)."""
        return "ConcurrentRequestsPerCopy" if self.on_inference_component else "ConcurrentRequestsPerModel"

    @property
    def queue_statistic(self) -> str:
        """The statistic alarms and dashboards read the queue signal with (AWS documents only Min and Max)."""
        return QUEUE_STATISTIC

    @property
    def gpu_metric_name(self) -> str:
        return "GPUUtilizationNormalized" if self.on_inference_component else "GPUUtilization"

    def _variant_dims(self) -> tuple[tuple[str, str], ...]:
        return (("EndpointName", self.endpoint_name), ("VariantName", self.variant_name))

    def _component_dims(self) -> tuple[tuple[str, str], ...]:
        return (("InferenceComponentName", self.inference_component_name or ""),)

    def metric(self, name: str) -> Metric:
        """The model's own metric `name`: its invocations, and its utilisation (the variant's instances on a classic
        endpoint, the component's copies on an inference-component endpoint)."""
        ic = self.on_inference_component
        if name in INVOCATION_METRICS or name in (COMPONENT_INVOCATION_METRICS if ic else VARIANT_INVOCATION_METRICS):
            return Metric(INVOCATIONS_NAMESPACE, name, self._component_dims() if ic else self._variant_dims())
        if ic and name in COPY_METRICS:
            return Metric(COPIES_NAMESPACE, name, self._component_dims())
        if not ic and name in INSTANCE_METRICS:
            return Metric(INSTANCES_NAMESPACE, name, self._variant_dims())
        raise ValueError(self._unknown(name, "model"))

    def instance_metric(self, name: str) -> Metric:
        """Metric `name` of the endpoint's instances (`/aws/sagemaker/Endpoints`), whatever runs on them."""
        if name in INSTANCE_METRICS or (self.on_inference_component and name in COMPONENT_INSTANCE_METRICS):
            return Metric(INSTANCES_NAMESPACE, name, self._variant_dims())
        raise ValueError(self._unknown(name, "instance"))

    def _unknown(self, name: str, level: str) -> str:
        kind = "an inference-component endpoint" if self.on_inference_component else "a variant endpoint"
        known = sorted(self._known(level))
        return f"SageMaker publishes no {level} metric '{name}' for {kind} (known: {', '.join(known)})"

    def _known(self, level: str) -> frozenset[str]:
        ic = self.on_inference_component
        if level == "instance":
            return INSTANCE_METRICS | (COMPONENT_INSTANCE_METRICS if ic else frozenset())
        return INVOCATION_METRICS | (
            COMPONENT_INVOCATION_METRICS | COPY_METRICS if ic else VARIANT_INVOCATION_METRICS | INSTANCE_METRICS
        )
