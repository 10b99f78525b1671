"""Credentials pasted into a spec: a spec is committed to git, so any secret in it — in any field or comment — is
leaked the moment it is pushed.

Formats from each issuer's documentation: Hugging Face user access tokens start `hf_` (huggingface.co/docs/hub/
security-tokens); AWS access key ids start `AKIA` (long-term) or `ASIA` (temporary) followed by 16 upper-case
letters and digits (IAM user guide, "Understanding unique ID prefixes"); GitHub tokens start `ghp_`, `gho_`, `ghu_`,
`ghs_`, `ghr_` or `github_pat_` (GitHub docs, "About authentication to GitHub"); OpenAI-style API keys start `sk-`;
PEM private keys begin `-----BEGIN … PRIVATE KEY-----`; a URL's user-info part may carry a password
(`scheme://user:password@host`, RFC 3986 §3.2.1, deprecated there for this reason).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class SecretKind:
    name: str
    pattern: re.Pattern[str]


SECRET_KINDS: tuple[SecretKind, ...] = (
    SecretKind("a Hugging Face token", re.compile(r"\bhf_[A-Za-z0-9]{30,}\b")),
    SecretKind("an AWS access key id", re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b")),
    SecretKind("a GitHub token", re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b")),
    SecretKind("an API key", re.compile(r"\bsk-[A-Za-z0-9_-]{32,}\b")),
    SecretKind("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    SecretKind("a password in a URL", re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@")),
)


def secret_in(text: str) -> SecretKind | None:
    """The kind of credential `text` contains, if any."""
    return next((k for k in SECRET_KINDS if k.pattern.search(text)), None)


def secret_lines(text: str) -> list[tuple[int, SecretKind]]:
    """(1-based line, kind) of every line of a spec file that holds a credential (comments included)."""
    return [(n, kind) for n, line in enumerate(text.splitlines(), 1) if (kind := secret_in(line))]
