"""Which priority class a request belongs to, and which backend it goes to."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from llama_infra.router.auth import KeyRing, request_api_key
from llama_infra.router.config import Priority

BackendRole = Literal["primary", "fallback"]


class PriorityClassifier:
    """Maps a request's headers to a `Priority`.

    A key listed as high priority makes the request `high`. The priority header can always lower a request to
    `low` (batch jobs volunteer for it); it can raise one to `high` only when the router sits behind a gateway that
    controls the header (`trust_header`). Anything else is `normal`.
    """

    def __init__(self, high_priority_keys: Iterable[str], header: str, trust_header: bool) -> None:
        self._high = KeyRing(high_priority_keys)
        self._header = header
        self._trust_header = trust_header

    def classify(self, headers: Mapping[str, str]) -> Priority:
        key = request_api_key(headers)
        if key is not None and key in self._high:
            return Priority.HIGH
        asked = headers.get(self._header, "").strip().lower()
        if asked == Priority.LOW.value:
            return Priority.LOW
        if asked == Priority.HIGH.value and self._trust_header:
            return Priority.HIGH
        return Priority.NORMAL


def choose_backend(priority: Priority, primary_queue_depth: float, overflow_threshold: float | None) -> BackendRole:
    """Overflow rule: non-high requests go to the fallback while the primary's queue depth is over the threshold.

    `overflow_threshold` is the spec's `fallback.when_queue_depth_over`, or None when there is no fallback.
    """
    if overflow_threshold is None or priority is Priority.HIGH:
        return "primary"
    return "fallback" if primary_queue_depth > overflow_threshold else "primary"


def other_backend(role: BackendRole) -> BackendRole:
    """Where a request fails over to when `role` has no serving replica."""
    return "fallback" if role == "primary" else "primary"
