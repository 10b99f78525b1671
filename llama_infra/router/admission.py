"""Bounded admission: how many requests the router keeps open, and who is turned away first."""

from __future__ import annotations

from collections import Counter

from llama_infra.router.config import Priority


class AdmissionController:
    """Counts open requests and sheds by class when there are too many.

    - `low` is refused once `low_limit` requests are open (all classes counted),
    - `normal` once `normal_limit` are open,
    - `high` is never refused: its tenants are the ones the capacity is for, so they only ever see the backend.
    """

    def __init__(self, normal_limit: int, low_limit: int) -> None:
        self._limits = {Priority.LOW: low_limit, Priority.NORMAL: normal_limit}
        self._open: Counter[Priority] = Counter()

    @property
    def open_requests(self) -> int:
        return sum(self._open.values())

    def open_by_priority(self, priority: Priority) -> int:
        return self._open[priority]

    def try_admit(self, priority: Priority) -> bool:
        limit = self._limits.get(priority)
        if limit is not None and self.open_requests >= limit:
            return False
        self._open[priority] += 1
        return True

    def release(self, priority: Priority) -> None:
        if self._open[priority] <= 0:
            raise RuntimeError(f"release of a {priority.value} request that was never admitted")
        self._open[priority] -= 1
