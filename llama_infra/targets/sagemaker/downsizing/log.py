"""Structured logs: one JSON object per line, so CloudWatch Logs Insights can filter on any field."""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO


class JsonLog:
    """Writes `{"ts": ..., "event": ..., **context, **fields}` lines; `context` holds the endpoint and direction."""

    def __init__(self, stream: TextIO | None = None, **context: Any):
        self.stream = stream
        self.context = context
        self.records: list[dict[str, Any]] = []  # kept for the failure notification

    def __call__(self, event: str, **fields: Any) -> None:
        record = {"ts": round(time.time(), 3), "event": event, **self.context, **fields}
        self.records.append(record)
        print(json.dumps(record, default=str, sort_keys=True), file=self.stream or sys.stdout, flush=True)
