"""Run a Pulumi program in this process under recording mocks, as often as needed.

Pulumi keeps its runtime in module globals and context variables (settings, root stack, config). Each run gets a
fresh event loop (an earlier `asyncio.run` elsewhere leaves none), a fresh root stack (`ROOT` reset, as
`set_mocks` only creates one when none exists), the stack's config, and new mocks — the same steps Pulumi's
own `@pulumi.runtime.test` tests rely on, made repeatable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import settings

from llama_infra.plan.mocks import RecordedResource, RecordingMocks, RecordingMonitor


@dataclass
class ProgramRun:
    records: list[RecordedResource]
    component_outputs: dict[str, dict[str, Any]]
    stack_outputs: dict[str, Any] = field(default_factory=dict)
    calls: list[tuple[str, dict]] = field(default_factory=list)

    def of_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.records if r.type == type_]


def run_program(program: Callable[[], Any], *, project: str, stack: str, preview: bool,
                config: dict[str, str] | None = None, region: str = "us-east-1") -> ProgramRun:
    """Run `program` (a Pulumi program body) under mocks; return every registration and the stack's exports."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        mocks = RecordingMocks(region)
        monitor = RecordingMonitor(mocks)
        settings.ROOT.set(None)
        pulumi.runtime.set_all_config(dict(config or {}))
        pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=monitor)
        exported: dict[str, Any] = {}

        @pulumi.runtime.test
        def body() -> Any:
            result = program()
            root = settings.get_root_resource()
            outputs = dict(getattr(root, "outputs", {}) or {})
            if not outputs:
                return result
            return pulumi.Output.all(**outputs).apply(exported.update)

        body()
        return ProgramRun(list(monitor.records), dict(monitor.component_outputs), exported, list(mocks.calls))
    finally:
        asyncio.set_event_loop(None)
        loop.close()
