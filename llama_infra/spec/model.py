"""The deployment spec: typed fields, their defaults and documentation (schema only).

Cross-field rules (does the model fit, is min ≤ max, do windows overlap, …) live in `rules.py` and run from
`DeploymentSpec`'s model validator, so a `DeploymentSpec` that exists is a valid one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, model_validator

Precision = Literal["fp16", "bf16", "fp8", "int8", "int4", "awq", "gptq"]
Framework = Literal["vllm", "tgi", "lmi", "tensorrt-llm"]
TargetName = Literal["sagemaker", "eks"]
Environment = Literal["dev", "staging", "prod"]
Purchase = Literal["on-demand", "reserved", "capacity-block"]

ResourceName = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$",
        description="Lower-case letters, digits and '-', 3–40 characters, starting with a letter and not ending in "
        "'-'; "
        "prefixes every resource name.",
    ),
]


class _Strict(BaseModel):
    # Finite numbers only: `.inf` peak load or `.nan` targets would pass `gt=0` checks and break every calculation.
    # Strict types: a quoted `count: "2"` or `scale_to_zero: "false"` is text in YAML, and coercing it silently
    # hides what the user wrote (a quoted "false" is a typo away from "flase"); whole numbers still pass as floats.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)


class Weights(_Strict):
    source: str = Field(
        description="Where the weights live: an uncompressed S3 prefix `s3://bucket/prefix/` (served with "
        "S3Prefix + CompressionType None) or `hf://org/model` to download from the Hugging Face Hub.",
        pattern=r"^(s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.*|hf://[\w.-]+/[\w.-]+)$",
    )
    preload: Literal["none", "nvme"] = Field(
        "none", description="Copy weights to local NVMe instance storage before start (cuts cold start 50–70 %)."
    )
    hf_token_secret: str | None = Field(
        None,
        description="Name or ARN of the AWS Secrets Manager secret (SageMaker) or name of the Kubernetes Secret (EKS) "
        "holding the Hugging Face token for gated weights. Never a literal token.",
    )


class Model(_Strict):
    id: str = Field(description="Model id, e.g. meta-llama/Llama-3.1-70B-Instruct.", min_length=3)
    params_b: float = Field(gt=0, le=2000, description="Parameter count in billions.")
    precision: Precision = Field(
        "bf16", description="Weight precision: fp16/bf16 take 2 bytes per parameter, fp8/int8 1, int4/awq/gptq 0.5."
    )
    framework: Framework = Field(
        "vllm", description="Model server: vllm, tgi (Hugging Face TGI), lmi (DJL LMI on SageMaker) or tensorrt-llm."
    )
    quantized_checkpoint: bool | None = Field(
        None,
        description="Whether the weights are a pre-quantized checkpoint carrying its own quantization_config "
        "(the server reads it and gets no quantization flag). Default: true for awq, gptq and fp8 (awq/gptq exist "
        "only as calibrated checkpoints; fp8 Llama weights are published as checkpoints), false for int8/int4, which "
        "the server quantizes at load (TGI only, with bitsandbytes). false with fp8: the server quantizes a 16-bit "
        "checkpoint to fp8 at load. TensorRT-LLM always builds from a 16-bit checkpoint.",
    )
    max_model_len: int = Field(8192, ge=256, le=1_048_576, description="Context length the server admits.")
    tensor_parallel_degree: int | None = Field(
        None, ge=1, le=8, description="GPUs per replica; default: every GPU of the instance."
    )
    memory_overhead_fraction: float = Field(
        0.30,
        ge=0.05,
        le=1.0,
        description="KV cache + activations + framework, as a fraction of the weights "
        "(guide: 0.20–0.30). The fit check uses it.",
    )
    weights: Weights


class Slo(_Strict):
    ttft_p99_ms: float = Field(500, gt=0, description="Time to first token, 99th percentile, milliseconds.")
    tokens_per_s_per_user: float = Field(20, gt=0, description="Decode speed each user must see (guide: 20–50).")


class Baseline(_Strict):
    instance_type: str = Field(description="Instance type of the always-on capacity (`ml.` prefix on SageMaker).")
    count: int = Field(ge=0, le=100, description="Instances always running.")
    purchase: Purchase = Field(
        "on-demand",
        description="How the baseline is bought: on-demand, reserved (Savings Plan / RI pricing) or "
        "capacity-block (EC2 Capacity Blocks for ML, EKS only).",
    )
    capacity_reservation_id: str | None = Field(
        None, pattern=r"^cr-[0-9a-f]{8,17}$", description="On-Demand Capacity Reservation or Capacity Block to target."
    )


class Burst(_Strict):
    instance_types: list[str] = Field(
        default_factory=list,
        description="Instance types burst capacity may use; several types make spot capacity likelier. "
        "SageMaker: the baseline type (a variant has one type); empty means the baseline type.",
    )
    capacity: Literal["spot", "on-demand"] = Field("on-demand", description="spot is an EKS feature.")
    max: int = Field(0, ge=0, le=200, description="Most burst instances above the baseline.")
    on_demand_fallback: bool = Field(True, description="Fall back to on-demand when spot is unavailable (EKS).")
    min_instance_types: int = Field(2, ge=1, le=10, description="Least number of types in a spot pool.")


class Capacity(_Strict):
    baseline: Baseline
    burst: Burst = Field(default_factory=Burst)


class Scaling(_Strict):
    metric: Literal["queue_depth"] = Field("queue_depth", description="Primary signal: waiting requests.")
    queue_depth_target: float = Field(
        5, gt=0, le=1000, description="Waiting requests per replica the autoscaler aims for."
    )
    gpu_memory_target: float | None = Field(
        0.85,
        gt=0,
        lt=1,
        description="Second trigger: KV-cache memory in use per replica; null disables. EKS: vLLM's KV-cache usage "
        "(vllm:kv_cache_usage_perc; TGI has none). SageMaker: not used, its GPU memory metrics count memory the "
        "server allocates at start (~90 %), not load; it scales on queue depth alone (the spec warns when set).",
    )
    min_replicas: int | None = Field(None, ge=0, description="Default: the baseline count.")
    max_replicas: int | None = Field(None, ge=1, description="Default: baseline count + burst max.")
    scale_up_stabilization_seconds: int = Field(
        0,
        ge=0,
        le=3600,
        description="How long a higher recommendation must hold before replicas are added (the HPA's scale-up "
        "window; SageMaker: not used). EKS with windows: also how long the queue must hold before it wakes a burst "
        "with no serving replica, which KEDA decides on its own polls (the formula reads the queue's least value "
        "over this window there).",
    )
    scale_down_stabilization_seconds: int = Field(300, ge=0, le=3600)
    autoscaler: Literal["hpa", "keda"] = Field("keda", description="EKS only: HPA via prometheus-adapter or KEDA.")
    polling_interval_seconds: int = Field(30, ge=5, le=600, description="KEDA polling interval (EKS).")
    scale_to_zero: bool = Field(False, description="Allow zero replicas when idle (needs a zero baseline).")
    floor_lead_minutes: int | None = Field(
        None,
        ge=0,
        le=720,
        description="How far ahead of the daily shape the predictive floor raises the minimum: each hour's floor "
        "carries the busiest load from the hour's start until this long after its end. Default: the "
        "configuration's switch time (new capacity + model load, high estimate); `llama-infra tune` searches it.",
    )


class ModelOverride(_Strict):
    id: str | None = None
    params_b: float | None = Field(None, gt=0, le=2000)
    precision: Precision | None = None
    weights: Weights | None = Field(
        None,
        description="Where the window's model weights live, as model.weights: an uncompressed S3 prefix "
        "(no Hugging Face token in the window's container either) or hf://org/model. Default: hf://<id> with "
        "model.weights.hf_token_secret.",
    )


class Downsize(_Strict):
    instance_type: str | None = Field(None, description="Instance type during the window; default: unchanged.")
    model_override: ModelOverride | None = Field(None, description="Smaller/more quantized model in the window.")
    min_replicas: int | None = Field(None, ge=0)
    max_replicas: int | None = Field(None, ge=0)


class Schedule(_Strict):
    name: ResourceName
    timezone: str = Field("UTC", description="IANA timezone the crons are written in.")
    start: str = Field(description="5-field cron: when the window starts (local time).")
    end: str = Field(description="5-field cron: when the window ends (local time).")
    downsize: Downsize


class Fallback(_Strict):
    model_id: str
    params_b: float = Field(gt=0, le=2000)
    precision: Precision = "int4"
    when_queue_depth_over: float = Field(50, gt=0, description="Primary queue depth above which requests overflow.")
    instance_type: str | None = Field(None, description="Default: the baseline instance type.")
    priority_api_keys_secret: str | None = Field(
        None, description="Secret holding API keys of high-priority tenants, never overflowed or shed."
    )


class TokenPercentiles(_Strict):
    """A token-count distribution as percentiles (p50 ≤ p95 ≤ p99)."""

    p50: float = Field(gt=0, le=1_048_576, description="Median tokens.")
    p95: float = Field(gt=0, le=1_048_576, description="95th percentile.")
    p99: float = Field(gt=0, le=1_048_576, description="99th percentile: the TTFT check uses the p99 prompt.")
    mean: float | None = Field(
        None, gt=0, le=1_048_576, description="Mean tokens. Default: the mean of the log-normal through p50 and p95."
    )


class RequestSizes(_Strict):
    """Prompt and output sizes of the traffic: percentiles, or a trace file to take them from."""

    trace: str | None = Field(
        None,
        min_length=1,
        description="Per-request CSV with the columns TIMESTAMP,ContextTokens,GeneratedTokens "
        "(the Azure LLM trace format `llama-infra simulate --trace` reads); a relative path is relative to the spec "
        "file. Instead of the percentiles.",
    )
    prompt_tokens: TokenPercentiles | None = Field(None, description="Prompt (context) tokens per request.")
    output_tokens: TokenPercentiles | None = Field(None, description="Generated tokens per request.")


class Load(_Strict):
    """The traffic the spec serves: peak rate, daily shape and request sizes (stated, not guessed)."""

    peak_requests_per_second: float | None = Field(None, gt=0, description="Busiest hour's request rate.")
    requests_per_second_per_replica: float | None = Field(
        None,
        gt=0,
        description="Sustained rate one replica serves within the SLO. Default: derived from the "
        "replica model, the SLO and the request sizes (`llama-infra plan` shows it); a stated value more than 25 % "
        "away from the derived one is a warning. With the peak it sizes replicas per hour.",
    )
    request_sizes: RequestSizes | None = Field(
        None,
        description="Prompt/output token distribution. Default: the shared Azure LLM 2023 code trace "
        "(llama_infra/data/traces/azure_llm_2023_code.csv: prompt p50 1,469, p95 7,303, p99 7,436 tokens; "
        "output p50 13, p95 90, p99 251).",
    )
    daily_shape: list[Annotated[float, Field(ge=0, le=1)]] | None = Field(
        None,
        min_length=24,
        max_length=24,
        description="24 hourly load fractions of the peak (0–1) in the first schedule's timezone (UTC without "
        "schedules). Default: the weekday profile of the Azure LLM 2024 coding trace.",
    )


class SageMakerSettings(_Strict):
    variant_name: str = Field("AllTraffic", pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
    kms_key_arn: str | None = Field(None, description="Volume KMS key (only used on types without NVMe).")
    alarm_topic_arn: str | None = Field(None, description="SNS topic for alarms.")
    image_uri: str | None = Field(None, description="Override the container image (default from sagemaker-core).")


class EksAddons(_Strict):
    keda: bool = True
    prometheus_adapter: bool = False
    nvidia_device_plugin: bool = True
    dcgm_exporter: bool = True


class EksScrape(_Strict):
    """How Prometheus (`eks.prometheus_url`) finds the model servers and the router (docs/eks.md, "Metrics")."""

    via: Literal["pod-monitor", "scrape-config-secret"] = Field(
        "pod-monitor",
        description="pod-monitor: prometheus-operator PodMonitors (kube-prometheus-stack). "
        "scrape-config-secret: a Secret with plain scrape_configs for the Prometheus resource's "
        "additionalScrapeConfigs, or a Prometheus without the operator (scrape_config_files).",
    )
    monitor_labels: dict[str, str] = Field(
        default_factory=lambda: {"release": "kube-prometheus-stack"},
        description="Labels on every PodMonitor, for the Prometheus resource's podMonitorSelector. "
        "kube-prometheus-stack selects `release: <its Helm release name>` by default.",
    )
    secret_namespace: str = Field(
        "monitoring",
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
        max_length=63,
        description="Namespace of the scrape-config Secret (scrape-config-secret): the Prometheus resource's, "
        "since additionalScrapeConfigs reads a Secret in its own namespace.",
    )


class EksSettings(_Strict):
    cluster_name: str = Field(min_length=1, max_length=100)
    kubernetes_version: str = Field("1.31", pattern=r"^1\.\d{2}$")
    namespace: str = Field("llama", pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    karpenter: bool = Field(True, description="Burst through Karpenter NodePools; false = SPOT managed node group.")
    addons: EksAddons = Field(default_factory=EksAddons, description="Add-ons llama-infra installs with Helm.")
    preinstalled: list[Literal["keda", "prometheus-adapter", "nvidia-device-plugin", "dcgm-exporter"]] = Field(
        default_factory=list, description="Add-ons the cluster already runs (not installed, but relied on)."
    )
    prometheus_url: str = Field(
        "http://kube-prometheus-stack-prometheus.monitoring.svc:9090",
        pattern=r"^https?://[^\s]+$",
        description="Prometheus that scrapes the model servers; KEDA's trigger and prometheus-adapter query it.",
    )
    scrape: EksScrape = Field(
        default_factory=EksScrape,
        description="How that Prometheus finds the pods: "
        "PodMonitors labelled for its selector, or a scrape-config Secret.",
    )
    router_image: str | None = Field(
        None,
        min_length=3,
        description="Image of the router (deployed with `fallback` or scale to zero, where it is "
        "required): build docker/router.Dockerfile, push it to a registry the cluster pulls from (ECR) and name it "
        "here, best by digest (`<repo>@sha256:<digest>`). Nothing is installed from a package index at start.",
    )
    api_keys_secret: str | None = Field(
        None,
        pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
        max_length=253,
        description="Where the router is deployed it answers 401 to requests without one of these keys: the "
        "Kubernetes Secret (in the namespace) whose key `keys` lists the client API keys, one per line "
        "(fallback.priority_api_keys_secret's keys are let in too). Default: `<name>-api-keys`.",
    )
    backend_api_key_secret: str | None = Field(
        None,
        pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
        max_length=253,
        description="Where the router is deployed, the model servers require this key (vLLM --api-key, TGI "
        "API_KEY) and only the router sends it: the Kubernetes Secret whose key `key` holds it. Default: "
        "`<name>-backend-api-key`.",
    )
    karpenter_interruption_queue: bool = Field(
        True,
        description="Create Karpenter's interruption queue (SQS + EventBridge rules for spot interruption, "
        "rebalance, state change, scheduled change); set Karpenter's settings.interruptionQueue to the exported "
        "queue name. false when the cluster's Karpenter install already has one.",
    )


class DeploymentSpec(_Strict):
    """One Llama deployment: model, target, SLOs, capacity, scaling, schedules and overflow."""

    name: ResourceName
    environment: Environment = Field(
        "dev", description="The stack this spec is for; prod warns about a baseline below 2 instances."
    )
    target: TargetName = Field(
        description="Where it runs: sagemaker (real-time endpoint; burst is on-demand) or eks "
        "(GPU node pools; spot burst, overflow router)."
    )
    region: str = Field(
        "us-east-1",
        pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$",
        description="AWS Region code, e.g. us-east-1 or eu-west-1 (not the display name).",
    )
    model: Model
    slo: Slo = Field(default_factory=Slo)
    capacity: Capacity
    scaling: Scaling = Field(default_factory=Scaling)
    schedules: list[Schedule] = Field(
        default_factory=list,
        description="Windows: when (cron in an IANA timezone) another serving configuration runs (`downsize`); "
        "windows must not overlap.",
    )
    fallback: Fallback | None = Field(
        None,
        description="Smaller model that requests overflow to when the primary's "
        "queue is deep (EKS: served by llama-infra's router).",
    )
    load: Load = Field(default_factory=Load, description="The load the cost report assumes.")
    sagemaker: SageMakerSettings | None = Field(None, description="Settings for target: sagemaker.")
    eks: EksSettings | None = Field(None, description="Settings for target: eks (required there).")
    tags: dict[str, str] = Field(
        default_factory=dict, description="Tags on every resource; keys must not start with 'aws:'."
    )

    # The folder of the spec file (validation context `spec_dir`, set by `load_spec`): relative trace paths resolve
    # against it. None for a spec built in code (then they resolve against the working directory).
    _spec_dir: Path | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _cross_field_rules(self, info: ValidationInfo) -> DeploymentSpec:
        from llama_infra.spec.rules import check

        spec_dir = (info.context or {}).get("spec_dir")
        self._spec_dir = Path(spec_dir) if spec_dir is not None else None
        check(self)  # raises SpecRuleErrors (not a ValueError: pydantic lets it through with every issue)
        return self

    @property
    def spec_dir(self) -> Path | None:
        return self._spec_dir

    # Derived values: one definition, used by components, pricing and the simulator alike.
    @property
    def min_replicas(self) -> int:
        return self.scaling.min_replicas if self.scaling.min_replicas is not None else self.capacity.baseline.count

    @property
    def max_replicas(self) -> int:
        if self.scaling.max_replicas is not None:
            return self.scaling.max_replicas
        return max(1, self.capacity.baseline.count + self.capacity.burst.max)

    @property
    def tp_degree(self) -> int:
        """GPUs per replica: model.tensor_parallel_degree, else every GPU of the baseline instance type."""
        from llama_infra import catalog

        inst = catalog.lookup(self.capacity.baseline.instance_type)
        return self.model.tensor_parallel_degree or (inst.gpu_count if inst else 1)

    @property
    def burst_instance_types(self) -> list[str]:
        return self.capacity.burst.instance_types or [self.capacity.baseline.instance_type]

    @property
    def sagemaker_settings(self) -> SageMakerSettings:
        return self.sagemaker or SageMakerSettings()
