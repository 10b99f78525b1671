"""Client authentication: which API key a request carries, and whether it is one of the configured keys.

Keys are compared as SHA-256 digests with `hmac.compare_digest`, against every configured key (no early exit), so
neither the comparison nor the number of keys tried tells a caller how close a guess was. Header values that are not
UTF-8 (aiohttp keeps such bytes as surrogate escapes) are compared byte for byte like any other key: they match
nothing and get 401, never an encoding error.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping

CREDENTIAL_HEADERS = frozenset({"authorization", "x-api-key", "api-key"})
"""Headers that carry a client's credentials; not forwarded to the backends unless configured."""


def request_api_key(headers: Mapping[str, str]) -> str | None:
    """The API key a client sent: `Authorization: Bearer <key>` (OpenAI style) or `api-key` / `x-api-key`."""
    authorization = headers.get("Authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return headers.get("x-api-key") or headers.get("api-key") or None


def key_digest(key: str) -> bytes:
    # surrogateescape: the raw bytes of a header aiohttp could not decode, so a non-UTF-8 key is just a wrong key.
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()


class KeyRing:
    """A set of API keys that holds only their digests (no key can leak in a traceback or a repr)."""

    def __init__(self, keys: Iterable[str]) -> None:
        self._digests = tuple(sorted({key_digest(key) for key in keys}))

    def __bool__(self) -> bool:
        return bool(self._digests)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        candidate = key_digest(key)
        found = False
        for digest in self._digests:  # every key is compared, whichever matches
            found |= hmac.compare_digest(digest, candidate)
        return found
