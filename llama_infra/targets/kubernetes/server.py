"""The model-server container: image, tensor-parallel flags, probes sized from the cold start, and the drain.

Flag and env names are those of the pinned images (`llama_infra.targets.kubernetes.images`):
- vLLM: `--tensor-parallel-size`, `--max-model-len`, `--dtype`, `--quantization`, `--served-model-name`; health at
  `/health`; token in `HF_TOKEN`; behind the router `--api-key` (from the backend key Secret).
- TGI: `MODEL_ID`, `NUM_SHARD`, `MAX_TOTAL_TOKENS`, `MAX_INPUT_TOKENS`, `QUANTIZE`, `DTYPE`, `PORT`; health at
  `/health`; token in `HF_TOKEN`; behind the router `API_KEY`.
A quantization flag only where the server quantizes at load, never for a pre-quantized checkpoint
(`llama_infra.quantization`); `tests/targets/eks/test_container_facts.py` checks the names against the pinned images.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from llama_infra import catalog, quantization, sizing
from llama_infra.targets.kubernetes.images import SERVER_IMAGES, WEIGHTS_SYNC_IMAGE
from llama_infra.targets.kubernetes.prometheus_metrics import server_metrics

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec

PORT = 8000
PORT_NAME = "http"
HEALTH_PATH = "/health"
MODEL_DIR = "/models"
HF_TOKEN_KEY = "token"  # key inside the Kubernetes Secret named by model.weights.hf_token_secret

# Spot capacity gets a 2-minute notice. Karpenter reads it from the interruption queue within seconds and drains
# the node; the pod then has this long: endpoints drop it (no new requests), preStop waits for in-flight streams to
# finish (bounded), then the server gets SIGTERM. 100 s leaves margin before the instance is reclaimed at 120 s.
TERMINATION_GRACE_SECONDS = 100
DRAIN_DEADLINE_SECONDS = 85
STARTUP_PROBE_PERIOD_SECONDS = 10

# Upstream vLLM/TGI images run as root and write caches under /root: no privilege escalation, no capabilities.
CONTAINER_SECURITY = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
# The weights copy needs none of root's powers (the emptyDir is world-writable).
SYNC_SECURITY = {**CONTAINER_SECURITY, "runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532}

_VLLM_DTYPE = {"fp16": "float16", "bf16": "bfloat16"}


def drain_script(framework: str) -> str:
    """preStop: poll the server's own metrics until nothing is running or waiting, at most the drain deadline."""
    m = server_metrics(framework)
    busy = {"vllm": ("vllm:num_requests_running", m.queue_depth), "tgi": ("tgi_batch_current_size", m.queue_depth)}[
        m.framework
    ]
    names = ", ".join(repr(b) for b in busy)
    return (
        "import time, urllib.request\n"
        f"deadline = time.time() + {DRAIN_DEADLINE_SECONDS}\n"
        "time.sleep(5)  # let the endpoints controller remove this pod from the Service first\n"
        "while time.time() < deadline:\n"
        "    try:\n"
        f"        text = urllib.request.urlopen('http://127.0.0.1:{PORT}{m.path}', timeout=2).read().decode()\n"
        "    except Exception:\n"
        "        break\n"
        f"    busy = sum(float(line.rsplit(' ', 1)[1]) for line in text.splitlines()\n"
        f"               if line.split('{{')[0].split(' ')[0] in ({names},))\n"
        "    if busy == 0:\n"
        "        break\n"
        "    time.sleep(2)\n"
    )


def startup_failure_threshold(spec: DeploymentSpec) -> int:
    """Startup probe budget: the cold-start high estimate with 50 % margin (weights are synced by an init
    container first, so the probe covers disk→GPU and engine start), at least 5 minutes."""
    m = spec.model
    cs = sizing.cold_start(m.params_b, m.precision, nvme_preload=m.weights.preload == "nvme")
    return max(30, math.ceil(cs.total_high_s * 1.5 / STARTUP_PROBE_PERIOD_SECONDS))


def model_path(spec: DeploymentSpec) -> str:
    """What the server loads: the synced local copy for s3:// weights, the Hub id for hf:// weights."""
    src = spec.model.weights.source
    return MODEL_DIR if src.startswith("s3://") else src.removeprefix("hf://")


def _token_env(spec: DeploymentSpec) -> list[dict]:
    secret = spec.model.weights.hf_token_secret
    if not secret:
        return []
    return [{"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": secret, "key": HF_TOKEN_KEY}}}]


def _quantize_at_load(spec: DeploymentSpec) -> str | None:
    m = spec.model
    server = quantization.server_of(spec.target, m.framework)
    return quantization.quantize_at_load(m.precision, m.quantized_checkpoint, server)


BACKEND_API_KEY_KEY = "key"  # key inside the backend API key Secret
BACKEND_API_KEY_ENV = "LLAMA_BACKEND_API_KEY"


def api_key_secret(spec: DeploymentSpec) -> str | None:
    """The Secret holding the key this server requires, where the router fronts it (a fallback or scale to zero):
    only the router, which holds the same Secret, may then call the model. None where clients call it directly."""
    from llama_infra.capacity_plan import scales_to_zero

    if spec.eks is None:
        return None
    if spec.eks.backend_api_key_secret:
        return spec.eks.backend_api_key_secret
    if spec.fallback is not None or scales_to_zero(spec):
        return f"{spec.name}-backend-api-key"
    return None


def _api_key_env(spec: DeploymentSpec, name: str) -> list[dict]:
    secret = api_key_secret(spec)
    if secret is None:
        return []
    return [{"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": BACKEND_API_KEY_KEY}}}]


def _vllm(spec: DeploymentSpec) -> dict:
    m = spec.model
    args = [
        "--model",
        model_path(spec),
        "--served-model-name",
        m.id,
        "--tensor-parallel-size",
        str(spec.tp_degree),
        "--max-model-len",
        str(m.max_model_len),
        "--port",
        str(PORT),
        "--download-dir",
        MODEL_DIR,
    ]
    if m.precision in _VLLM_DTYPE:
        args += ["--dtype", _VLLM_DTYPE[m.precision]]
    quantize = _quantize_at_load(spec)
    if quantize:  # never for a pre-quantized checkpoint: vLLM reads its quant_method (`llama_infra.quantization`)
        args += [quantization.SERVERS["vllm"].setting, quantize]
    key_env = _api_key_env(spec, BACKEND_API_KEY_ENV)
    if key_env:
        args += ["--api-key", f"$({BACKEND_API_KEY_ENV})"]  # expanded by the kubelet: the key is not in the pod spec
    return {
        "command": ["python3", "-m", "vllm.entrypoints.openai.api_server"],
        "args": args,
        "env": [{"name": "HF_HOME", "value": f"{MODEL_DIR}/.hf"}, *_token_env(spec), *key_env],
    }


def _tgi(spec: DeploymentSpec) -> dict:
    m = spec.model
    env = [
        {"name": "MODEL_ID", "value": model_path(spec)},
        {"name": "NUM_SHARD", "value": str(spec.tp_degree)},
        {"name": "PORT", "value": str(PORT)},
        {"name": "MAX_TOTAL_TOKENS", "value": str(m.max_model_len)},
        {"name": "MAX_INPUT_TOKENS", "value": str(m.max_model_len - 1)},
        {"name": "HUGGINGFACE_HUB_CACHE", "value": f"{MODEL_DIR}/.hf"},
    ]
    quantize = _quantize_at_load(spec)
    if quantize:  # a pre-quantized checkpoint's quantization_config is read by TGI itself
        env.append({"name": quantization.SERVERS["tgi"].setting, "value": quantize})
    elif m.precision in _VLLM_DTYPE:
        env.append({"name": "DTYPE", "value": _VLLM_DTYPE[m.precision]})
    return {"env": env + _token_env(spec) + _api_key_env(spec, "API_KEY")}


def _resources(spec: DeploymentSpec, instance_types: list[str]) -> dict:
    """GPU request = TP; CPU and memory: 75 % of the smallest per-replica share among the types it may run on."""
    shares = []
    for t in instance_types:
        g = catalog.lookup(t)
        if g:
            frac = spec.tp_degree / g.gpu_count
            shares.append((g.vcpus * frac, g.memory_gib * frac))
    cpu = max(1, math.floor(min(s[0] for s in shares) * 0.75))
    mem = max(8, math.floor(min(s[1] for s in shares) * 0.75))
    gpu = str(spec.tp_degree)
    return {
        "requests": {"cpu": str(cpu), "memory": f"{mem}Gi", "nvidia.com/gpu": gpu},
        "limits": {"memory": f"{mem}Gi", "nvidia.com/gpu": gpu},
    }


def weights_volume_gib(spec: DeploymentSpec) -> int:
    return math.ceil(sizing.weights_gb(spec.model.params_b, spec.model.precision) * 1.2) + 10


def container(spec: DeploymentSpec, instance_types: list[str]) -> dict:
    framework = spec.model.framework
    body = _vllm(spec) if framework == "vllm" else _tgi(spec)
    probe = {"httpGet": {"path": HEALTH_PATH, "port": PORT_NAME}}
    resources = _resources(spec, instance_types)
    resources["requests"]["ephemeral-storage"] = f"{weights_volume_gib(spec)}Gi"
    return {
        "name": "server",
        "image": SERVER_IMAGES[framework],
        **body,
        "ports": [{"name": PORT_NAME, "containerPort": PORT, "protocol": "TCP"}],
        "resources": resources,
        "startupProbe": {
            **probe,
            "periodSeconds": STARTUP_PROBE_PERIOD_SECONDS,
            "failureThreshold": startup_failure_threshold(spec),
            "timeoutSeconds": 5,
        },
        "readinessProbe": {**probe, "periodSeconds": 5, "failureThreshold": 3, "timeoutSeconds": 3},
        "livenessProbe": {**probe, "periodSeconds": 15, "failureThreshold": 4, "timeoutSeconds": 5},
        "securityContext": dict(CONTAINER_SECURITY),
        "lifecycle": {"preStop": {"exec": {"command": ["python3", "-c", drain_script(framework)]}}},
        "volumeMounts": [{"name": "models", "mountPath": MODEL_DIR}, {"name": "shm", "mountPath": "/dev/shm"}],
    }


def init_containers(spec: DeploymentSpec) -> list[dict]:
    """s3:// weights: copy the uncompressed prefix to the pod's volume (on NVMe RAID0 when preloading)."""
    src = spec.model.weights.source
    if not src.startswith("s3://"):
        return []
    return [
        {
            "name": "sync-weights",
            "image": WEIGHTS_SYNC_IMAGE,
            "command": ["aws", "s3", "sync", src, MODEL_DIR, "--only-show-errors", "--exclude", "*.pth"],
            "env": [{"name": "AWS_REGION", "value": spec.region}, {"name": "HOME", "value": "/tmp"}],
            "securityContext": dict(SYNC_SECURITY),
            "resources": {"requests": {"cpu": "2", "memory": "2Gi"}, "limits": {"memory": "4Gi"}},
            "volumeMounts": [{"name": "models", "mountPath": MODEL_DIR}],
        }
    ]


def volumes(spec: DeploymentSpec) -> list[dict]:
    return [
        {"name": "models", "emptyDir": {"sizeLimit": f"{weights_volume_gib(spec)}Gi"}},
        # NCCL between tensor-parallel ranks needs more shared memory than the container default of 64 MB.
        {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "16Gi"}},
    ]
