"""`llama-infra verify`: the guide's autoscaling verification against a live endpoint, with an evidence report."""

from __future__ import annotations

import json
import os
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from llama_infra.cli._extras import require


class Target(str, Enum):
    eks = "eks"
    sagemaker = "sagemaker"


def _body(body_file: Path | None, model: str | None, target: Target, max_tokens: int) -> dict[str, Any]:
    if body_file is not None:
        try:
            body = json.loads(body_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"--body-file {body_file}: not a readable JSON file ({exc})") from exc
        if not isinstance(body, dict):
            raise ValueError(f"--body-file {body_file}: the request body must be a JSON object")
        return body
    prompt = "Explain in three sentences why autoscaling on queue depth beats CPU utilisation for LLM serving."
    if target is Target.sagemaker:  # TGI / LMI request schema
        return {"inputs": prompt, "parameters": {"max_new_tokens": max_tokens}}
    if not model:
        raise ValueError("--model is required for an OpenAI-compatible endpoint (the served model's name)")
    return {"model": model, "messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens}


def register(app: typer.Typer) -> None:
    @app.command()
    def verify(
        target: Annotated[Target, typer.Option(help="eks: a service URL + its HPA; sagemaker: an endpoint.")],
        url: Annotated[str | None, typer.Option(help="EKS: base URL of the service or router.")] = None,
        path: Annotated[str, typer.Option(help="EKS: request path.")] = "/v1/chat/completions",
        model: Annotated[str | None, typer.Option(help="EKS: model name for the request body.")] = None,
        namespace: Annotated[str, typer.Option(help="EKS: namespace of the HPA.")] = "default",
        hpa: Annotated[str | None, typer.Option(help="EKS: the HPA's name (KEDA: keda-hpa-<name>).")] = None,
        kubeconfig: Annotated[Path | None, typer.Option(help="Default: $KUBECONFIG, ~/.kube/config.")] = None,
        context: Annotated[str | None, typer.Option(help="kubeconfig context (default: current).")] = None,
        endpoint_name: Annotated[str | None, typer.Option(help="SageMaker: endpoint name.")] = None,
        variant: Annotated[str, typer.Option(help="SageMaker: production variant.")] = "AllTraffic",
        region: Annotated[str | None, typer.Option(help="SageMaker: AWS region (default: the SDK's).")] = None,
        body_file: Annotated[Path | None, typer.Option(help="JSON request body to send instead.")] = None,
        api_key_env: Annotated[
            str | None, typer.Option(help="Name of an environment variable holding the endpoint's API key.")
        ] = None,
        max_tokens: Annotated[int, typer.Option(min=1)] = 64,
        concurrency: Annotated[int, typer.Option(min=1, help="Requests kept open at once.")] = 100,
        load_seconds: Annotated[float, typer.Option(min=0.001, help="How long the load runs.")] = 60.0,
        scale_up_within_seconds: Annotated[float, typer.Option(min=0.001)] = 60.0,
        scale_down_within_seconds: Annotated[float, typer.Option(min=0.001)] = 300.0,
        sample_interval_seconds: Annotated[float, typer.Option(min=0.001)] = 5.0,
        request_timeout_seconds: Annotated[float, typer.Option(min=0.001)] = 120.0,
        out: Annotated[Path, typer.Option(help="Directory for report.md and evidence.png.")] = Path("verify-report"),
    ) -> None:
        """Load the endpoint (default: 100 concurrent requests for 60 s) and check that replicas rise within 60 s,
        no 5xx appears while scaling up, and replicas are back at the minimum within 5 minutes. Exit 0 on pass."""
        require("verify", "verify")
        import asyncio

        from llama_infra.verify.kubeconfig import KubeconfigError
        from llama_infra.verify.procedure import VerifyPlan, run_verification
        from llama_infra.verify.report import write_report
        from llama_infra.verify.scaler import ScalerError

        def fail(message: str) -> None:
            typer.echo(f"verify: {message}", err=True)
            raise typer.Exit(2)

        if target is Target.eks and (not url or not hpa):
            fail("--target eks needs --url (the service) and --hpa (its HorizontalPodAutoscaler)")
        if target is Target.sagemaker and not endpoint_name:
            fail("--target sagemaker needs --endpoint-name")
        try:
            body = _body(body_file, model, target, max_tokens)
        except ValueError as exc:
            fail(str(exc))
        headers: dict[str, str] = {}
        if api_key_env:
            if not os.environ.get(api_key_env):
                fail(f"--api-key-env {api_key_env}: that environment variable is not set")
            headers["Authorization"] = f"Bearer {os.environ[api_key_env]}"
        plan = VerifyPlan(
            concurrency=concurrency,
            load_duration_seconds=load_seconds,
            scale_up_within_seconds=scale_up_within_seconds,
            scale_down_within_seconds=scale_down_within_seconds,
            sample_interval_seconds=sample_interval_seconds,
        )

        async def run() -> Any:
            if target is Target.eks:
                from llama_infra.verify.kubeconfig import load_kubeconfig
                from llama_infra.verify.kubernetes import KubernetesHpaScaler
                from llama_infra.verify.load import HttpLoadTarget

                credentials = load_kubeconfig(kubeconfig, context)
                scaler: Any = KubernetesHpaScaler(credentials, namespace, hpa or "")
                load: Any = HttpLoadTarget(
                    (url or "").rstrip("/") + path, body, headers, request_timeout_seconds, concurrency
                )
            else:
                import boto3

                from llama_infra.verify.load import SageMakerLoadTarget
                from llama_infra.verify.sagemaker import SageMakerVariantScaler

                session = boto3.session.Session(region_name=region)
                scaler = SageMakerVariantScaler(endpoint_name or "", variant, session)
                load = SageMakerLoadTarget(endpoint_name or "", body, request_timeout_seconds, concurrency, session)
            try:
                return await run_verification(load, scaler, plan)
            finally:
                await load.close()
                await scaler.close()

        from botocore.exceptions import BotoCoreError

        try:
            result = asyncio.run(run())
        except (KubeconfigError, ScalerError, BotoCoreError) as exc:
            fail(str(exc))
        report = write_report(result, out)
        for step in result.steps:
            typer.echo(f"{'PASS' if step.passed else 'FAIL'}  {step.name}: {step.detail}")
        typer.echo(f"evidence: {report} and {out / 'evidence.png'}")
        raise typer.Exit(0 if result.passed else 1)
