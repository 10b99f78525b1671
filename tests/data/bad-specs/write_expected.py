"""Write `<case>.expected` for bad specs that have none (or, with --force CASE..., for the named cases).

Run from anywhere; paths in messages are shown relative to the repository root, as the test does.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]


def main(argv: list[str]) -> int:
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    from llama_infra.spec import SpecError, load_spec

    force = argv[:1] == ["--force"]
    named = {Path(a).stem for a in argv[1:]} if force else set()
    for spec in sorted(HERE.glob("*.yaml")):
        expected = spec.with_suffix(".expected")
        if expected.exists() and spec.stem not in named:
            continue
        relative = spec.relative_to(ROOT)
        try:
            load_spec(relative)
        except SpecError as e:
            expected.write_text(str(e) + "\n")
            print(f"wrote {expected.relative_to(ROOT)}")
        else:
            print(f"{relative} is valid: it does not belong in the bad-spec corpus", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
