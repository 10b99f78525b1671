"""`llama-infra init`: a new project directory with one environment's spec, its stack file and the Pulumi program.

The directory is written complete or not at all (built beside the target and renamed into place), and its spec is
validated with the same loader `plan` and `pulumi up` use before anything is kept.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ruamel.yaml import YAML

from llama_infra.spec import SpecError, load_spec

Target = Literal["sagemaker", "eks"]
ModelSize = Literal["8b", "70b"]


@dataclass(frozen=True)
class Serving:
    """A serving configuration that fits: the model, its precision and the smallest instance type that holds it."""

    model_id: str
    params_b: int
    precision: str
    instance_type: str  # without the `ml.` prefix SageMaker adds


# One known-good shape per model size: 8B bf16 on one L40S; 70B AWQ (INT4, ~40 GB of weights) on 4× L40S.
SERVING: dict[ModelSize, Serving] = {
    "8b": Serving("meta-llama/Llama-3.1-8B-Instruct", 8, "bf16", "g6e.xlarge"),
    "70b": Serving("hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4", 70, "awq", "g6e.12xlarge"),
}

PROGRAM = '''"""The Pulumi program of this project: each Pulumi.<stack>.yaml names a spec under specs/
(llama-infra:spec)."""

from pathlib import Path

from llama_infra.program import main

main(Path(__file__).resolve().parent)
'''


def spec_document(
    name: str, target: Target, model: ModelSize, region: str, environment: str, cluster_name: str
) -> dict[str, Any]:
    from llama_infra import catalog, targets

    s = SERVING[model]
    doc: dict[str, Any] = {
        "name": name,
        "environment": environment,
        "target": target,
        "region": region,
        "model": {
            "id": s.model_id,
            "params_b": s.params_b,
            "precision": s.precision,
            "framework": "vllm",
            "max_model_len": 8192,
            "weights": {"source": f"s3://{name}-weights/{s.model_id.rsplit('/', 1)[-1].lower()}/"},
        },
        "slo": {"ttft_p99_ms": 800, "tokens_per_s_per_user": 20},
        "capacity": {
            "baseline": {
                "instance_type": catalog.target_name(s.instance_type, target),
                "count": 1,
                "purchase": "on-demand",
            },
            "burst": {"max": 1},
        },
        "scaling": {"queue_depth_target": 5, "scale_down_stabilization_seconds": 300},
    }
    return targets.get(target).scaffold(doc, environment=environment, region=region, cluster_name=cluster_name)


def _yaml(doc: dict[str, Any], header: str = "") -> str:
    out = io.StringIO()
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.dump(doc, out)
    return header + out.getvalue()


def scaffold(
    directory: Path,
    *,
    name: str,
    target: Target,
    model: ModelSize,
    region: str,
    environment: str = "dev",
    cluster_name: str = "my-cluster",
) -> list[Path]:
    """Write the project into `directory` (which must not exist yet); return the files written, relative to it.
    Raises FileExistsError, or SpecError when the options make a spec that does not validate."""
    if directory.exists():
        raise FileExistsError(f"{directory} already exists; init writes a new directory")
    stack = environment
    files = {
        "Pulumi.yaml": _yaml(
            {
                "name": name,
                "description": f"{name}: self-hosted Llama serving (llama-infra)",
                "runtime": {"name": "python", "options": {"virtualenv": "venv"}},
                "main": ".",
            }
        ),
        "__main__.py": PROGRAM,
        "requirements.txt": "llama-infra\n",
        f"Pulumi.{stack}.yaml": _yaml(
            {"config": {"llama-infra:spec": f"specs/{stack}.yaml"}},
            f"# `pulumi up --stack {stack}` deploys this spec (path relative to here).\n",
        ),
        f"specs/{stack}.yaml": _yaml(
            spec_document(name, target, model, region, environment, cluster_name),
            "# Written by `llama-infra init`; `llama-infra validate` checks it, "
            "`llama-infra plan` shows what it builds and costs.\n"
            "# weights.source: put the model's files in this S3 prefix (or change it).\n",
        ),
    }
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
    try:
        for relative, text in files.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        try:
            load_spec(staging / "specs" / f"{stack}.yaml")
        except SpecError as e:  # name it by where it would have been, not the staging directory
            raise SpecError(str(directory / "specs" / f"{stack}.yaml"), e.issues, e.lines) from None
        os.rename(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [Path(p) for p in files]
