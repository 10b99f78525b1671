"""Cross-field rules that hold a spec against facts it can contradict: the model's own name, AWS's names and limits
(botocore's service models and endpoint data), credentials, and what a window can mean. What differs by target is
read from its facts (`llama_infra.target_facts`); the EKS cluster's own settings are the EKS target's rules
(`targets/eks/rules.py`).

Each rule returns `SpecIssue`s whose fix, when followed, gives a spec without the problem (the bad-spec corpus
follows each one: `tests/data/bad-spec-fixes.yaml`).
"""

from __future__ import annotations

import difflib
import re
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from llama_infra import catalog, model_facts, target_facts
from llama_infra.spec.errors import Path, SpecIssue
from llama_infra.spec.secrets import secret_in

if TYPE_CHECKING:
    from llama_infra.spec.model import DeploymentSpec

# ARN: arn:partition:service:region:account:resource (AWS General Reference, "Amazon Resource Names").
_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):"
    r"(?P<account>\d{12}|):(?P<resource>.+)$"
)
# ECR image URI: <account>.dkr.ecr.<region>.amazonaws.com/<repository>[:tag|@digest] (Amazon ECR user guide).
_ECR = re.compile(r"^\d{12}\.dkr\.ecr(-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/")
# A window of downsizing is a night or a weekend; one that lasts longer than a week is a cron mistake.
MAX_WINDOW_HOURS = 7 * 24
# ttft_p99_ms is milliseconds; a P99 time to first token below this is a value written in seconds.
MIN_PLAUSIBLE_TTFT_MS = 20


def fact_errors(spec: DeploymentSpec) -> list[SpecIssue]:
    out: list[SpecIssue] = []
    for rule in (
        _model_id_facts,
        _bf16_gpus,
        _weights_source,
        _region,
        _arns,
        _image_uri,
        _fallback_facts,
        _window_facts,
        _limits,
        _tags,
        _names,
        _secrets,
    ):
        out.extend(rule(spec))
    return out


# --- the model's own name ----------------------------------------------------------------------------------------


def _model_id_facts(spec: DeploymentSpec) -> list[SpecIssue]:
    out = []
    models: list[tuple[Path, str, float, str | None]] = [
        (("model",), spec.model.id, spec.model.params_b, spec.model.precision)
    ]
    if spec.fallback:
        models.append((("fallback",), spec.fallback.model_id, spec.fallback.params_b, spec.fallback.precision))
    for i, s in enumerate(spec.schedules):
        o = s.downsize.model_override
        if o and o.id and o.params_b:
            models.append((("schedules", i, "downsize", "model_override"), o.id, o.params_b, o.precision))
    for where, model_id, params_b, precision in models:
        facts = model_facts.checkpoint(model_id)
        params_field = "params_b"
        id_field = "model_id" if where == ("fallback",) else "id"
        if facts.context_tokens and facts.params_b and abs(params_b - facts.params_b) > 0.15 * facts.params_b:
            out.append(
                SpecIssue(
                    (*where, params_field),
                    f"params_b {params_b:g} contradicts the model id "
                    f"{model_id}, whose name says {facts.params_b:g}B: sizing and cost would be for the "
                    "wrong model",
                    f"set params_b: {facts.params_b:g}, or correct {id_field}",
                )
            )
        if facts.precisions and precision and precision not in facts.precisions:
            out.append(
                SpecIssue(
                    (*where, "precision"),
                    f"precision {precision} contradicts the checkpoint "
                    f"{model_id}, which is {facts.precisions[0]}: servers load it as it is",
                    f"set precision: {facts.precisions[0]}",
                )
            )
    m = spec.model
    context = model_facts.checkpoint(m.id).context_tokens
    if context and m.max_model_len > context:
        out.append(
            SpecIssue(
                ("model", "max_model_len"),
                f"max_model_len {m.max_model_len:,} is longer than the "
                f"{context:,}-token context {m.id} was trained for (its model card): the server refuses "
                "it or serves garbage past that length",
                f"set max_model_len: {context}",
            )
        )
    return out


def _bf16_gpus(spec: DeploymentSpec) -> list[SpecIssue]:
    if spec.model.precision != "bf16":
        return []
    from llama_infra.spec.instance_types import instance_fields, known_instance

    out = []
    for path, itype in instance_fields(spec):
        inst = known_instance(itype, spec.target)  # None for types reported as unknown or not offered
        if inst and not inst.runs_precision("bf16") and path[0] == "capacity":
            out.append(
                SpecIssue(
                    path,
                    f"precision bf16 on {itype} ({inst.gpu_model}, CUDA compute capability "
                    "7.5): bfloat16 needs compute capability 8.0, so the server refuses to start",
                    "set model.precision: fp16 (same size), or use a g5/g6/g6e type",
                )
            )
    return out


def _weights_source(spec: DeploymentSpec) -> list[SpecIssue]:
    w, m = spec.model.weights, spec.model
    out = []
    if w.source.startswith("s3://"):
        key = w.source.split("/", 3)[3] if w.source.count("/") >= 3 else ""
        if re.search(r"\.(tar\.gz|tgz|tar|zip|safetensors|bin)$", key):
            out.append(
                SpecIssue(
                    ("model", "weights", "source"),
                    f"'{w.source}' names a file; llama-infra serves "
                    "weights from an uncompressed S3 prefix (S3Prefix, CompressionType None), the folder "
                    "that holds config.json and the *.safetensors shards",
                    "unpack the archive to a prefix and name that folder, ending in '/'",
                )
            )
        elif key and not key.endswith("/"):
            out.append(
                SpecIssue(
                    ("model", "weights", "source"),
                    f"'{w.source}' does not end in '/': as an S3 prefix "
                    f"it also matches every sibling that starts the same (e.g. {key}-old/)",
                    f"write source: {w.source}/",
                )
            )
    elif w.source.startswith("hf://") and w.source.removeprefix("hf://").lower() != m.id.lower():
        out.append(
            SpecIssue(
                ("model", "weights", "source"),
                f"the weights come from {w.source} but the model is "
                f"{m.id}: the server would load one and llama-infra size the other",
                f"write source: hf://{m.id}, or set model.id to the repository the weights come from",
            )
        )
    return out


# --- AWS: regions, ARNs, images --------------------------------------------------------------------------------


@cache
def _regions(service: str) -> tuple[str, ...]:
    """Regions botocore's endpoint data lists for a service (the commercial, China and GovCloud partitions)."""
    import botocore.session

    session = botocore.session.get_session()
    return tuple(
        sorted(
            {
                r
                for p in ("aws", "aws-cn", "aws-us-gov")
                for r in session.get_available_regions(service, partition_name=p)
            }
        )
    )


def _region(spec: DeploymentSpec) -> list[SpecIssue]:
    facts = target_facts.of(spec.target)
    known = _regions(facts.region_service)
    if spec.region in known:
        return []
    close = difflib.get_close_matches(spec.region, known, n=1, cutoff=0.8)
    exists = spec.region in _regions("ec2")
    why = f"{facts.display_name} is not offered in {spec.region}" if exists else f"'{spec.region}' is not an AWS Region"
    return [
        SpecIssue(
            ("region",),
            f"{why} (botocore's endpoint data)",
            f"did you mean {close[0]}?" if close else "use a Region such as us-east-1, us-west-2 or eu-west-1",
        )
    ]


def _partition(region: str) -> str:
    return "aws-cn" if region.startswith("cn-") else ("aws-us-gov" if region.startswith("us-gov-") else "aws")


def _arn_issue(path: Path, arn: str, spec: DeploymentSpec, service: str, what: str) -> SpecIssue | None:
    m = _ARN.match(arn)
    if m is None:
        example = f"arn:{_partition(spec.region)}:{service}:{spec.region}:<account-id>:{arn if ':' not in arn else '…'}"
        return SpecIssue(path, f"'{arn}' is not an ARN: this field takes {what}'s ARN", f"write {example}")
    if m["service"] != service:
        return SpecIssue(
            path,
            f"'{arn}' is an ARN of {m['service']}, not of {service}: this field takes {what}",
            f"write the ARN of {what} (arn:{m['partition']}:{service}:…)",
        )
    if m["region"] != spec.region:
        return SpecIssue(
            path,
            f"{what} {arn} is in {m['region']}, but the deployment is in {spec.region}: AWS uses "
            "it only from its own Region",
            f"create {what} in {spec.region} and name that ARN, or set region: {m['region']}",
        )
    if m["partition"] != _partition(spec.region):
        return SpecIssue(
            path,
            f"ARN partition {m['partition']} does not match {spec.region} ({_partition(spec.region)})",
            f"write arn:{_partition(spec.region)}:…",
        )
    return None


def _arns(spec: DeploymentSpec) -> list[SpecIssue]:
    out = []
    sm = spec.sagemaker
    fields: list[tuple[Path, str | None, str, str]] = []
    if sm:
        fields += [
            (("sagemaker", "kms_key_arn"), sm.kms_key_arn, "kms", "a KMS key"),
            (("sagemaker", "alarm_topic_arn"), sm.alarm_topic_arn, "sns", "an SNS topic"),
        ]
    token = spec.model.weights.hf_token_secret
    if token and token.startswith("arn:"):
        if target_facts.of(spec.target).hf_token_store == "kubernetes-secret":
            out.append(
                SpecIssue(
                    ("model", "weights", "hf_token_secret"),
                    f"on EKS hf_token_secret names a "
                    f"Kubernetes Secret in namespace {spec.eks.namespace if spec.eks else 'llama'}, "
                    f"not an ARN ('{token}')",
                    "sync the secret into the cluster (e.g. External "
                    "Secrets) and write the Kubernetes Secret's name, e.g. hf-token",
                )
            )
        else:
            fields.append(
                (("model", "weights", "hf_token_secret"), token, "secretsmanager", "a Secrets Manager secret")
            )
    for path, arn, service, what in fields:
        if arn:
            issue = _arn_issue(path, arn, spec, service, what)
            if issue:
                out.append(issue)
    return out


def _image_uri(spec: DeploymentSpec) -> list[SpecIssue]:
    uri = spec.sagemaker.image_uri if spec.sagemaker else None
    if not uri:
        return []
    m = _ECR.match(uri)
    if m is None:
        return [
            SpecIssue(
                ("sagemaker", "image_uri"),
                f"'{uri}' is not an Amazon ECR image: SageMaker hosting pulls model containers from ECR",
                "push the image to an ECR repository in "
                f"{spec.region} and write <account>.dkr.ecr.{spec.region}.amazonaws.com/<repo>:<tag>",
            )
        ]
    if m["region"] != spec.region:
        return [
            SpecIssue(
                ("sagemaker", "image_uri"),
                f"the image is in ECR in {m['region']}, but the endpoint is in "
                f"{spec.region}: SageMaker pulls model images from its own Region",
                f"replicate the repository to {spec.region} (ECR replication) and write that URI",
            )
        ]
    if ":" not in uri.rsplit("/", 1)[-1] and "@" not in uri:
        return [
            SpecIssue(
                ("sagemaker", "image_uri"),
                f"'{uri}' has no tag or digest: it means ':latest', which changes under a running endpoint",
                "pin it: <repo>:<version> or <repo>@sha256:<digest>",
            )
        ]
    return []


# --- overflow, windows, limits --------------------------------------------------------------------------------


def _fallback_facts(spec: DeploymentSpec) -> list[SpecIssue]:
    fb = spec.fallback
    if fb is None:
        return []
    out = []
    if fb.model_id == spec.model.id:
        out.append(
            SpecIssue(
                ("fallback", "model_id"),
                f"the fallback is the primary model ({fb.model_id}): "
                "overflow would queue on a second copy of the same model, not a faster smaller one",
                "overflow to a smaller model, e.g. "
                + (
                    "model_id: meta-llama/Llama-3.1-8B-Instruct with params_b: 8"
                    if spec.model.params_b > 8
                    else "model_id: meta-llama/Llama-3.2-3B-Instruct with params_b: 3"
                ),
            )
        )
    if fb.when_queue_depth_over <= spec.scaling.queue_depth_target:
        out.append(
            SpecIssue(
                ("fallback", "when_queue_depth_over"),
                f"requests overflow at a queue depth of "
                f"{fb.when_queue_depth_over:g}, at or below the {spec.scaling.queue_depth_target:g} the "
                "autoscaler aims for: the fallback would take traffic before the primary scales out",
                f"set when_queue_depth_over above {spec.scaling.queue_depth_target:g}, e.g. "
                f"{max(50, 10 * spec.scaling.queue_depth_target):g}",
            )
        )
    return out


def _window_facts(spec: DeploymentSpec) -> list[SpecIssue]:
    from llama_infra.schedules import Cron, ScheduleError, Window
    from llama_infra.spec.window_timing import SCHEDULE_CHECK_FROM

    out = []
    for i, s in enumerate(spec.schedules):
        d = s.downsize
        if d.max_replicas is not None and d.max_replicas > spec.max_replicas:
            out.append(
                SpecIssue(
                    ("schedules", i, "downsize", "max_replicas"),
                    f"window '{s.name}' allows "
                    f"{d.max_replicas} replicas, more than the day's max_replicas ({spec.max_replicas}): "
                    "a window never needs more capacity than the day",
                    f"set max_replicas: {spec.max_replicas} or less",
                )
            )
        day_type = spec.capacity.baseline.instance_type
        night = catalog.lookup(d.instance_type) if d.instance_type else None
        day = catalog.lookup(day_type)
        if night and day and night.total_gpu_memory_gb > day.total_gpu_memory_gb:
            out.append(
                SpecIssue(
                    ("schedules", i, "downsize", "instance_type"),
                    f"window '{s.name}' moves to "
                    f"{d.instance_type} ({night.describe_gpus()}), larger than the day's {day_type} "
                    f"({day.describe_gpus()}): a window that upsizes costs more than the day",
                    f"use a smaller type than {day_type}, or remove instance_type from the window",
                )
            )
        try:
            window = Window(Cron(s.start, s.timezone), Cron(s.end, s.timezone))
        except ScheduleError:
            continue  # reported by the schedule rules
        longest = window.longest_hours(SCHEDULE_CHECK_FROM)  # a window begun in 14 days shows it
        if longest > MAX_WINDOW_HOURS:
            out.append(
                SpecIssue(
                    ("schedules", i, "end"),
                    f"window '{s.name}' lasts up to {longest / 24:.0f} days "
                    f"(from '{s.start}' to the next '{s.end}'): the end cron fires too rarely",
                    "make end fire every morning a window starts before, e.g. end: "
                    f"'{' '.join(s.end.split()[:2])} * * *'",
                )
            )
        starts = window.start.firings(SCHEDULE_CHECK_FROM, SCHEDULE_CHECK_FROM + timedelta(days=1))
        if len(starts) > 4:
            out.append(
                SpecIssue(
                    ("schedules", i, "start"),
                    f"start '{s.start}' fires {len(starts)} times a day: "
                    "each firing is a transition of the whole fleet",
                    "fix the minute and hour, e.g. start: '0 22 * * *'",
                )
            )
    return out


def _limits(spec: DeploymentSpec) -> list[SpecIssue]:
    out = []
    if spec.slo.ttft_p99_ms < MIN_PLAUSIBLE_TTFT_MS:
        out.append(
            SpecIssue(
                ("slo", "ttft_p99_ms"),
                f"ttft_p99_ms {spec.slo.ttft_p99_ms:g} is "
                f"{spec.slo.ttft_p99_ms * 1000:g} µs: the field is milliseconds (a value in seconds?); "
                "the latency alarm would fire on every request",
                f"write ttft_p99_ms: {spec.slo.ttft_p99_ms * 1000:g}",
            )
        )
    shape = spec.load.daily_shape
    if shape and max(shape) != 1:
        top = max(shape)
        out.append(
            SpecIssue(
                ("load", "daily_shape"),
                f"the busiest hour is {top:g}, not 1: the values are "
                "fractions of the peak, so the peak rate would never be planned for",
                "divide every value by the largest, so the busiest hour is 1"
                if top > 0
                else "give the busiest hour 1 and the others their fraction of it",
            )
        )
    return out


@cache
def _tag_limits() -> tuple[int, int, int]:
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    return (
        model.shape_for("TagList").metadata["max"],
        model.shape_for("TagKey").metadata["max"],
        model.shape_for("TagValue").metadata["max"],
    )


def _tags(spec: DeploymentSpec) -> list[SpecIssue]:
    most, key_max, value_max = _tag_limits()
    # llama-infra adds its own tags (llama-infra:deployment, :environment, …) to every resource.
    out = []
    if len(spec.tags) > most - 5:
        out.append(
            SpecIssue(
                ("tags",),
                f"{len(spec.tags)} tags; AWS allows {most} per resource (botocore's "
                "SageMaker model) and llama-infra adds up to 5 of its own",
                f"keep at most {most - 5} tags",
            )
        )
    for k, v in spec.tags.items():
        if len(k) > key_max:
            out.append(
                SpecIssue(
                    ("tags", k),
                    f"tag key of {len(k)} characters; AWS allows {key_max}",
                    f"shorten the key to {key_max} characters",
                )
            )
        if len(v) > value_max:
            out.append(
                SpecIssue(
                    ("tags", k),
                    f"tag value of {len(v)} characters; AWS allows {value_max}",
                    f"shorten the value to {value_max} characters",
                )
            )
    return out


def _names(spec: DeploymentSpec) -> list[SpecIssue]:
    others = [e for e in ("dev", "staging", "prod") if e != spec.environment]
    said = [e for e in others if e in spec.name.split("-")]
    if not said:
        return []
    fixed = "-".join(spec.environment if p == said[0] else p for p in spec.name.split("-"))
    return [
        SpecIssue(
            ("name",),
            f"name '{spec.name}' says {said[0]} but environment is {spec.environment}: "
            "resources named for one stack would be created by another (a copied spec?)",
            f"write name: {fixed}, or set environment: {said[0]}",
        )
    ]


def _secrets(spec: DeploymentSpec) -> list[SpecIssue]:
    """Any credential in any string of the spec (the token field's own check names literal HF tokens there)."""
    out = []
    for path, value in _strings(spec.model_dump(mode="python")):
        if path == ("model", "weights", "hf_token_secret") and value.startswith("hf_"):
            continue
        kind = secret_in(value)
        if kind and kind.name == "a password in a URL":
            bare = re.sub(r"://[^/\s@]+@", "://", value)
            out.append(
                SpecIssue(
                    path,
                    "this URL holds a password; a spec is committed to git, so it is leaked",
                    f"write {bare} (no user:password@), give the credentials another way (a "
                    "Kubernetes Secret), and change that password",
                )
            )
        elif kind:
            out.append(
                SpecIssue(
                    path,
                    f"this value holds {kind.name}; a spec is committed to git, so it is leaked",
                    "revoke it, store it in Secrets Manager or a Kubernetes Secret, and remove it "
                    "from the spec (and from git history)",
                )
            )
    return out


def _strings(node: Any, path: Path = ()) -> list[tuple[Path, str]]:
    if isinstance(node, str):
        return [(path, node)]
    if isinstance(node, dict):
        return [x for k, v in node.items() for x in _strings(v, (*path, k))]
    if isinstance(node, list):
        return [x for i, v in enumerate(node) for x in _strings(v, (*path, i))]
    return []
