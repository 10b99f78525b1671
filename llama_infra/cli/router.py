"""`llama-infra router`: run the overflow router (what the EKS components deploy in front of primary + fallback)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from llama_infra.cli._extras import require


def _config_errors(source: str, error: Exception) -> str:
    from pydantic import ValidationError

    if not isinstance(error, ValidationError):
        return f"{source}: {error}"
    lines = [f"{source}: {error.error_count()} problem(s)"]
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"  {field}: {item['msg']}")
    return "\n".join(lines)


def build_router_config(config_file: Path | None, overrides: dict[str, Any]) -> Any:
    """RouterConfig from an optional YAML/JSON file (RouterConfig's own fields) plus command-line values on top."""
    from ruamel.yaml import YAML, YAMLError

    from llama_infra.router.config import RouterConfig

    data: dict[str, Any] = {}
    if config_file is not None:
        try:
            loaded = YAML(typ="safe").load(config_file.read_text(encoding="utf-8"))
        except (OSError, YAMLError) as exc:
            raise ValueError(f"{config_file}: cannot read router config: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ValueError(f"{config_file}: router config must be a mapping of RouterConfig fields")
        data = loaded
    for key, value in overrides.items():
        if value is None:
            continue
        section, _, field = key.partition(".")
        if field:
            data.setdefault(section, {})
            if not isinstance(data[section], dict):
                raise ValueError(f"{section}: must be a mapping")
            data[section][field] = value
        else:
            data[key] = value
    return RouterConfig.model_validate(data)


def register(app: typer.Typer) -> None:
    @app.command()
    def router(
        config_file: Annotated[
            Path | None, typer.Option("--config", help="YAML/JSON with RouterConfig fields.")
        ] = None,
        primary_url: Annotated[str | None, typer.Option(help="Primary service base URL.")] = None,
        primary_queue_metric: Annotated[str | None, typer.Option(help="auto | vllm | tgi | in_flight")] = None,
        fallback_url: Annotated[str | None, typer.Option(help="Fallback service base URL.")] = None,
        fallback_model_id: Annotated[str | None, typer.Option(help="Model the fallback serves.")] = None,
        fallback_precision: Annotated[str | None, typer.Option(help="fp16 | int8 | int4 (informational).")] = None,
        fallback_queue_metric: Annotated[str | None, typer.Option(help="auto | vllm | tgi | in_flight")] = None,
        when_queue_depth_over: Annotated[
            int | None, typer.Option(help="Overflow while the primary's queue depth is over this.")
        ] = None,
        priority_api_keys_file: Annotated[
            Path | None, typer.Option(help="File of high-priority API keys, one per line (a mounted Secret).")
        ] = None,
        api_keys_file: Annotated[
            Path | None, typer.Option(help="File of client API keys, one per line (a mounted Secret).")
        ] = None,
        require_api_key: Annotated[
            bool | None, typer.Option(help="Answer 401 to requests without a listed key (client or priority).")
        ] = None,
        backend_api_key_file: Annotated[
            Path | None, typer.Option(help="File with the key the backends require (vLLM --api-key).")
        ] = None,
        priority_header: Annotated[str | None, typer.Option(help="Header carrying low/high.")] = None,
        trust_priority_header: Annotated[
            bool | None, typer.Option(help="Let the header raise requests to high (behind a trusted gateway).")
        ] = None,
        max_in_flight_requests: Annotated[int | None, typer.Option(help="Shed normal priority above this.")] = None,
        low_priority_max_in_flight_requests: Annotated[
            int | None, typer.Option(help="Shed low priority above this (default: half of the above).")
        ] = None,
        metrics_poll_interval_seconds: Annotated[float | None, typer.Option()] = None,
        upstream_idle_timeout_seconds: Annotated[float | None, typer.Option()] = None,
        request_timeout_seconds: Annotated[
            float | None, typer.Option(help="504 for a non-streaming request unanswered this long.")
        ] = None,
        max_connections: Annotated[int | None, typer.Option(help="503 for client connections beyond this.")] = None,
        drain_timeout_seconds: Annotated[float | None, typer.Option()] = None,
        wake_wait_seconds: Annotated[
            float | None, typer.Option(help="Hold requests this long while the backend wakes from zero (0: 503 now).")
        ] = None,
        host: Annotated[str | None, typer.Option()] = None,
        port: Annotated[int | None, typer.Option()] = None,
    ) -> None:
        """Run the OpenAI-compatible overflow router until SIGTERM, then drain open streams and exit."""
        require("router", "router")
        import asyncio
        import logging

        from llama_infra.router.app import serve
        from llama_infra.router.config import load_backend_api_key, load_client_api_keys

        overrides = {
            "primary.url": primary_url,
            "primary.queue_metric": primary_queue_metric,
            "fallback.url": fallback_url,
            "fallback.model_id": fallback_model_id,
            "fallback.precision": fallback_precision,
            "fallback.queue_metric": fallback_queue_metric,
            "fallback.when_queue_depth_over": when_queue_depth_over,
            "priority_api_keys_file": priority_api_keys_file,
            "api_keys_file": api_keys_file,
            "require_api_key": require_api_key,
            "backend_api_key_file": backend_api_key_file,
            "priority_header": priority_header,
            "trust_priority_header": trust_priority_header,
            "max_in_flight_requests": max_in_flight_requests,
            "low_priority_max_in_flight_requests": low_priority_max_in_flight_requests,
            "metrics_poll_interval_seconds": metrics_poll_interval_seconds,
            "upstream_idle_timeout_seconds": upstream_idle_timeout_seconds,
            "request_timeout_seconds": request_timeout_seconds,
            "max_connections": max_connections,
            "drain_timeout_seconds": drain_timeout_seconds,
            "wake_wait_seconds": wake_wait_seconds,
            "host": host,
            "port": port,
        }
        source = str(config_file) if config_file else "router options"
        try:
            config = build_router_config(config_file, overrides)
            load_client_api_keys(config)  # fail now, with the file's name, not at the first request
            load_backend_api_key(config)
        except ValueError as exc:
            typer.echo(_config_errors(source, exc), err=True)
            raise typer.Exit(2) from None

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

        def announce(url: str) -> None:
            typer.echo(f"llama-infra router listening on {url}")

        drained = asyncio.run(serve(config, on_listening=announce))
        typer.echo("drained: every open request finished" if drained else "drain timed out: open requests were cut")
        raise typer.Exit(0 if drained else 1)
