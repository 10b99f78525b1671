"""Which priority class a request belongs to, and which backend it goes to."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Literal

from llama_infra.router.config import Priority

BackendRole = Literal["primary", "fallback"]


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


def request_api_key(headers: Mapping[str, str]) -> str | None:
    """The API key a client sent: `Authorization: Bearer <key>` (OpenAI style) or `api-key` / `x-api-key`."""
    authorization = headers.get("Authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return headers.get("x-api-key") or headers.get("api-key") or None


class PriorityClassifier:
    """Maps a request's headers to a `Priority`.

    A key listed as high priority makes the request `high`. The priority header can always lower a request to
    `low` (batch jobs volunteer for it); it can raise one to `high` only when the router sits behind a gateway that
    controls the header (`trust_header`). Anything else is `normal`.
    """

    def __init__(self, high_priority_keys: Iterable[str], header: str, trust_header: bool) -> None:
        # Compare digests, not the keys themselves: the set never holds a key that could leak in a traceback.
        self._high_digests = frozenset(_digest(key) for key in high_priority_keys)
        self._header = header
        self._trust_header = trust_header

    def classify(self, headers: Mapping[str, str]) -> Priority:
        key = request_api_key(headers)
        if key is not None and _digest(key) in self._high_digests:
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
