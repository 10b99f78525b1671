"""The one way commands make a rich Console for user output.

Spec values reach the terminal (ARNs such as `arn:aws:secretsmanager:…:secret:name`, names, paths), so rich's emoji
codes are off: `:secret:` must print as written, not as a picture.
"""

from __future__ import annotations

from rich.console import Console


def console(*, stderr: bool = False, width: int | None = None, soft_wrap: bool = False) -> Console:
    return Console(stderr=stderr, width=width, soft_wrap=soft_wrap, emoji=False)
