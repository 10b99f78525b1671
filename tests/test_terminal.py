"""User output prints spec values as written: no rich emoji codes, and every command's console comes from one place."""

import re
from pathlib import Path

from llama_infra import terminal

ROOT = Path(__file__).resolve().parents[1]
ARN = "arn:aws:secretsmanager:us-east-1:111122223333:secret:llama-infra/hf-token-AbCdEf"


def test_an_arn_with_secret_prints_as_written():
    out = terminal.console(width=200)
    with out.capture() as captured:
        out.print(ARN)
    assert captured.get().strip() == ARN


def test_no_module_builds_its_own_console():
    makers = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in sorted((ROOT / "llama_infra").rglob("*.py"))
        if p.name != "terminal.py"
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if re.search(r"\bConsole\(", line)
    ]
    assert makers == [], f"build consoles with llama_infra.terminal.console(): {makers}"
