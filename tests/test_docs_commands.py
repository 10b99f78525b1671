"""Every shell command in README.md and docs/*.md is checked, so none goes stale: each `llama-infra` command parses
against the real CLI (options, arguments, the files it names), the quick offline ones run and must exit 0, and
every other command is one of the kinds below, each checked for what can be checked offline. A command of a kind
this file does not know fails the test, so a new doc command gets a check when it is written."""

from __future__ import annotations

import importlib.util
import re
import shlex
from itertools import pairwise
from pathlib import Path

import pytest
import typer
from typer._click.exceptions import UsageError  # typer >= 0.29 carries its own click
from typer.testing import CliRunner

from llama_infra.cli import app

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Offline commands quick enough to run here (seconds); the others parse only (simulate/tune run for minutes on a
# week, router and verify serve or load a live endpoint, init is run by tests/test_init.py).
RUN = {"validate", "manifests", "plan", "schema"}
# Commands that need what this machine lacks, and what is checked of them instead.
NEEDS_CLOUD = {
    "pulumi": "the Pulumi CLI and AWS",
    "export": "AWS credentials",
    "docker": "a Docker daemon",
    "pip": "a package index install",
    "printf": "writes a scratch file",
    "kubectl": "a cluster",
}


def commands(path: Path) -> list[tuple[int, str]]:
    """(line, command) for each command in the file's bash blocks: continuations joined, comments dropped."""
    out = []
    text = path.read_text()
    for block in re.finditer(r"```(?:bash|sh|shell)\n(.*?)```", text, re.S):
        first = text[: block.start()].count("\n") + 2
        pending, start = "", 0
        for i, line in enumerate(block.group(1).splitlines()):
            if not pending:
                start = first + i
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
                continue
            command = _unsplit(pending + line)
            pending = ""
            if command:
                out.append((start, command))
    return [(n, c) for n, c in out if c]


def _unsplit(line: str) -> str:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|<>")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    return shlex.join(list(lexer))


def steps(command: str) -> list[list[str]]:
    """The simple commands of a line (split at && ; |), without redirections and leading VAR=value assignments."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|<>")
    lexer.whitespace_split = True
    out, current, skip_next = [], [], False
    for token in lexer:
        if skip_next:
            skip_next = False
        elif token in ("&&", ";", "|", "||"):
            out.append(current)
            current = []
        elif token in (">", ">>", "<", "2>"):
            skip_next = True
        else:
            current.append(token)
    out.append(current)
    return [
        [
            t
            for i, t in enumerate(s)
            if not (re.fullmatch(r"[A-Z_]+=\S*", t) and all(re.fullmatch(r"[A-Z_]+=\S*", x) for x in s[: i + 1]))
        ]
        for s in out
        if s
    ]


def _program(argv: list[str]) -> str:
    return argv[0].removeprefix(".venv/bin/")


CLI = typer.main.get_command(app)
DOC_COMMANDS = [(f"{p.relative_to(ROOT)}:{n}", c) for p in DOCS for n, c in commands(p)]


def test_the_docs_have_commands_to_check():
    assert len(DOC_COMMANDS) > 30


@pytest.mark.parametrize(("where", "command"), DOC_COMMANDS, ids=[w for w, _ in DOC_COMMANDS])
def test_doc_command(where, command, tmp_path, monkeypatch):
    cwd = ROOT
    for argv in steps(command):
        program = _program(argv)
        if program == "cd":
            cwd = cwd / argv[1]
            if not cwd.is_dir():  # a directory an earlier step of this line creates (init): nothing more to check
                return
            continue
        if program == "llama-infra":
            _check_cli(where, argv[1:], cwd, tmp_path, monkeypatch)
        elif program == "make":
            targets = re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), re.M)
            assert set(argv[1:]) <= set(targets), f"{where}: make {' '.join(argv[1:])}: no such target"
        elif program in ("python", "python3"):
            _check_python(where, argv[1:])
        elif program in NEEDS_CLOUD:
            for flag, value in pairwise(argv):  # files and directories the command names must exist
                if flag in ("-f", "--policy-pack", "--file"):
                    assert (ROOT / value).exists(), f"{where}: {value} does not exist"
        else:
            pytest.fail(f"{where}: `{program}` is a command this test does not know how to check: {command}")


def _check_python(where: str, args: list[str]) -> None:
    if args[:2] == ["-m", "pytest"]:
        for path in (a for a in args[2:] if not a.startswith("-")):
            assert (ROOT / path.split("::")[0]).exists(), f"{where}: {path} does not exist"
    elif args[:1] == ["-m"]:
        assert importlib.util.find_spec(args[1]) is not None, f"{where}: no module {args[1]}"
    elif args[:1] == ["-c"]:
        compile(args[1], where, "exec")
        for module, names in re.findall(r"from ([\w.]+) import ([\w, ]+)", args[1]):
            imported = importlib.import_module(module)
            for name in names.replace(" ", "").split(","):
                assert hasattr(imported, name), f"{where}: {module} has no {name}"
    else:
        pytest.fail(f"{where}: python {' '.join(args)}: not a form this test checks")


def _check_cli(where: str, args: list[str], cwd: Path, tmp_path: Path, monkeypatch) -> None:
    name = args[0]
    assert name in CLI.commands, f"{where}: llama-infra has no command {name}"
    command = CLI.commands[name]
    try:  # options and arguments as the real CLI parses them
        ctx = command.make_context(f"llama-infra {name}", list(args[1:]), resilient_parsing=False)
    except typer.Exit:
        return
    except UsageError as e:
        pytest.fail(f"{where}: llama-infra {' '.join(args)}: {e.format_message()}")
    for value in ctx.params.values():  # spec files it names exist (git revisions `REV:PATH` aside)
        for v in value if isinstance(value, (list, tuple)) else [value]:
            if (
                isinstance(v, (str, Path))
                and str(v).endswith((".yaml", ".yml"))
                and ":" not in str(v)
                and not str(v).startswith("my-")
            ):
                assert (cwd / v).is_file(), f"{where}: {v} does not exist"
    every_stack = name == "plan" and not ctx.params.get("stacks")  # make plan and tests/test_plan_spec_files run it
    if name in RUN and not every_stack and not any(str(a).startswith("my-") for a in args):
        monkeypatch.chdir(cwd)
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, (
            f"{where}: llama-infra {' '.join(args)} exited {result.exit_code}:\n{result.output[-1500:]}"
        )
