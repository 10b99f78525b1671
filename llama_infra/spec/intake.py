"""Untrusted spec input, bounded before YAML builds anything: size, text encoding, nesting depth and aliases.

A spec file may come from anyone who can open a pull request, so reading one must take bounded time and memory
and end in a located `SpecError`, never a traceback. The checks run on the raw bytes (size, encoding) and on the
YAML *event* stream, which ruamel.yaml's parser produces iteratively: nothing recursive and nothing that expands an
alias runs before the depth and the expanded size are known to be small.
"""

from __future__ import annotations

import codecs
import shlex
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, MappingStartEvent, ScalarEvent
from ruamel.yaml.scanner import RoundTripScanner

from llama_infra.spec.errors import SpecError, SpecIssue

# The largest example spec is ~3 KB; 256 KiB is ~80× that and parses in well under a second.
MAX_SPEC_BYTES = 256 * 1024
# The spec's own nesting is 5 levels (schedules[0].downsize.model_override.id); 32 leaves room for any tooling.
MAX_NESTING_DEPTH = 32
# YAML aliases are legitimate (a shared `downsize:` block), but each one is a copy once the spec is validated:
# bound how many there are and how many nodes the document has with every alias expanded ("billion laughs").
MAX_ALIASES = 100
MAX_EXPANDED_NODES = 20_000

# Explicit core-schema tags (`!!str 2`) say what plain YAML would; any other tag asks for a type a spec has not.
_CORE_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")}
_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32LE"),
    (codecs.BOM_UTF32_BE, "UTF-32BE"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def read_bounded(path: str, source: str) -> bytes:
    """At most MAX_SPEC_BYTES of the file (reading never runs away on a huge file or a device)."""
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_SPEC_BYTES + 1)
    except OSError as e:
        raise SpecError(source, [SpecIssue((), f"cannot read the file: {e.strerror}", "check the path")]) from None
    _check_size(raw, source)
    return raw


def decode(raw: bytes, source: str) -> str:
    """The spec's text: UTF-8 (a UTF-8 byte-order mark is allowed), else a SpecError naming the encoding it is in."""
    _check_size(raw, source)
    for bom, name in _BOMS:
        if raw.startswith(bom):
            raise _encoding_error(source, f"the file is {name} (it starts with a {name} byte-order mark)", name, 1)
    if b"\x00" in raw:
        guess = _guess(raw)
        at = raw.index(b"\x00")
        if guess and guess.startswith("UTF-"):
            raise _encoding_error(
                source,
                f"the file looks like {guess} (NUL bytes between the characters)",
                guess,
                raw[:at].count(b"\n") + 1,
            )
        raise SpecError(
            source,
            [
                SpecIssue(
                    (),
                    f"the file has a NUL byte at offset {at}: it is not a text file",
                    "point llama-infra at the spec's YAML file (UTF-8 text)",
                )
            ],
            [raw[:at].count(b"\n") + 1],
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        column = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        guess = _guess(raw)
        if guess is None:
            raise SpecError(
                source,
                [
                    SpecIssue(
                        (),
                        f"byte 0x{raw[e.start]:02x} at column {column} is not UTF-8 and "
                        "the file is not text in any encoding llama-infra recognises",
                        "point llama-infra at the spec's YAML file (UTF-8 text)",
                    )
                ],
                [line],
            ) from None
        raise _encoding_error(
            source,
            f"byte 0x{raw[e.start]:02x} at column {column} is not UTF-8; the file looks like {guess}",
            guess,
            line,
        ) from None


def check_text(text: str, source: str) -> None:
    """Size of text handed to `parse_spec` directly (a file was bounded by `read_bounded` already)."""
    if len(text) > MAX_SPEC_BYTES // 4:  # fewer characters than that are fewer than MAX_SPEC_BYTES UTF-8 bytes
        _check_size(text[: MAX_SPEC_BYTES + 1].encode("utf-8", "surrogatepass"), source)


def check_structure(text: str, source: str) -> None:
    """Walk the YAML events once: nesting depth, alias count and the expanded node count stay within the limits.
    Each refusal names the line and the field path where the limit was crossed.

    YAML syntax errors propagate (as ruamel.yaml's MarkedYAMLError) for the loader to report.
    """
    yaml = YAML(typ="rt")
    yaml.Scanner = _FlowBoundedScanner
    where = _Where()
    try:
        _walk(yaml.parse(text), source, where)
    except _TooDeep as e:
        raise _too_deep(source, e.line, where.path()) from None


def _too_deep(source: str, line: int | None, path: tuple[str | int, ...]) -> SpecError:
    return SpecError(
        source,
        [
            SpecIssue(
                path,
                f"the YAML nests more than {MAX_NESTING_DEPTH} mappings or lists deep (a spec nests 5)",
                "remove the extra brackets or indentation levels; see stacks/specs/ for the spec's shape",
            )
        ],
        [line],
    )


class _Where:
    """The field path of the node the event stream is at: a key per open mapping, an index per open list."""

    def __init__(self) -> None:
        self.frames: list[list] = []  # [is_mapping, key or index, expecting a key]
        self.last: tuple[str | int, ...] = ()  # the path of the last node seen

    def path(self) -> tuple[str | int, ...]:
        return tuple(f[1] for f in self.frames if f[1] is not None)

    def container(self) -> tuple[str | int, ...]:
        """The path of the innermost open collection itself."""
        return tuple(f[1] for f in self.frames[:-1] if f[1] is not None)

    def node(self, event: Any) -> tuple[str | int, ...] | None:
        """Called for each node event before it is walked: its path, or None for a mapping key."""
        if self.frames and self.frames[-1][0] and self.frames[-1][2]:
            top = self.frames[-1]
            top[1] = str(event.value) if isinstance(event, ScalarEvent) else "?"
            top[2] = False
            self.last = self.path()
            return None
        self.last = self.path()
        return self.last

    def opened(self, is_mapping: bool) -> None:
        self.frames.append([is_mapping, None if is_mapping else 0, is_mapping])

    def closed(self) -> None:
        self.frames.pop()
        self.done()

    def done(self) -> None:
        """A value is complete: a mapping now expects its next key, a list counts on."""
        if not self.frames:
            return
        top = self.frames[-1]
        if top[0]:
            top[2] = True
        else:
            top[1] += 1


def _walk(events: Any, source: str, where: _Where) -> None:
    sizes: dict[str, int] = {}  # anchor -> nodes in the anchored value, aliases inside it expanded
    stack: list[list] = []  # open collections: [anchor, nodes so far]
    total = aliases = 0
    for event in events:
        line = event.start_mark.line + 1 if event.start_mark else None
        at: tuple[str | int, ...] = ()
        if isinstance(event, (CollectionStartEvent, ScalarEvent, AliasEvent)):
            node = where.node(event)
            key = node is None
            at = where.path() if node is None else node
        tag = getattr(event, "tag", None)
        if tag is not None and str(tag) not in _CORE_TAGS:
            tag = str(tag).replace("tag:yaml.org,2002:", "!!")
            raise SpecError(
                source,
                [
                    SpecIssue(
                        at,
                        f"the YAML tag {tag} is not part of a spec (only plain values, lists and mappings are)",
                        f"remove the tag {tag}",
                    )
                ],
                [line],
            )
        if isinstance(event, CollectionStartEvent):
            stack.append([event.anchor, 1])
            where.opened(isinstance(event, MappingStartEvent))
            if len(stack) > MAX_NESTING_DEPTH:
                raise _too_deep(source, line, at)
            continue
        if isinstance(event, ScalarEvent):
            nodes, anchor = 1, event.anchor
            if not key:
                where.done()
        elif isinstance(event, AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise SpecError(
                    source,
                    [
                        SpecIssue(
                            at,
                            f"alias number {aliases} (*name): the YAML may have at most {MAX_ALIASES}",
                            "write the values out, or use fewer anchors (&name) and aliases",
                        )
                    ],
                    [line],
                )
            nodes, anchor = sizes.get(event.anchor, 1), None
            if not key:
                where.done()
        elif isinstance(event, CollectionEndEvent):
            at = where.container()
            anchor, nodes = stack.pop()
            where.closed()
        else:
            continue
        if anchor:
            sizes[anchor] = nodes
        if stack:
            stack[-1][1] += nodes
            nodes = stack[-1][1]
        else:
            total += nodes
            nodes = total
        if nodes > MAX_EXPANDED_NODES and aliases:
            raise SpecError(
                source,
                [
                    SpecIssue(
                        at,
                        f"with its aliases (*name) expanded the YAML has more than {MAX_EXPANDED_NODES:,} values (a "
                        "spec has about 60): an alias of an alias multiplies the document",
                        "write the values out instead of nesting aliases of aliases",
                    )
                ],
                [line],
            )
        if nodes > MAX_EXPANDED_NODES:
            raise SpecError(
                source,
                [
                    SpecIssue(
                        at,
                        f"the YAML has more than {MAX_EXPANDED_NODES:,} values (a spec has about 60)",
                        "a spec describes one deployment: remove the generated values from this point on",
                    )
                ],
                [line],
            )


class _FlowBoundedScanner(RoundTripScanner):
    """ruamel.yaml's scanner, refusing flow collections (`[`, `{`) nested deeper than MAX_NESTING_DEPTH.

    Each open flow collection may start a simple key, and the scanner re-checks every pending one per token: a line
    of a thousand `[` costs it seconds. Refusing at the limit keeps that quadratic term at 32².
    """

    def fetch_flow_collection_start(self, TokenClass: Any, to_push: str) -> None:
        if len(self.flow_context) >= MAX_NESTING_DEPTH:
            raise _TooDeep(self.reader.get_mark().line + 1)
        super().fetch_flow_collection_start(TokenClass, to_push)


class _TooDeep(Exception):
    def __init__(self, line: int):
        self.line = line


def _check_size(raw: bytes, source: str) -> None:
    """Refuse more than MAX_SPEC_BYTES, naming the line (and the field path there) where the limit is crossed."""
    if len(raw) <= MAX_SPEC_BYTES:
        return
    head = raw[:MAX_SPEC_BYTES]
    line = head.count(b"\n") + 1
    path = _path_at_end(head.decode("utf-8", "ignore"))  # a cut multi-byte character is dropped
    raise SpecError(
        source,
        [
            SpecIssue(
                path,
                f"the file is larger than {MAX_SPEC_BYTES // 1024} KiB, the most llama-infra reads (line {line} passes "
                "it); a spec is a few KB",
                "point llama-infra at the spec's YAML file (one deployment per spec)",
            )
        ],
        [line],
    )


def _path_at_end(text: str) -> tuple[str | int, ...]:
    """The field path of the last node in `text` (the file up to the size limit), or of the node where the text
    stops being readable YAML or breaks another limit first; () when there is none."""
    yaml = YAML(typ="rt")
    yaml.Scanner = _FlowBoundedScanner
    where = _Where()
    try:
        _walk(yaml.parse(text), "<size>", where)
    except Exception:  # noqa: BLE001 - best effort: the path only locates the size error
        pass
    return where.last


def _guess(raw: bytes) -> str | None:
    """The encoding charset-normalizer finds most likely, as iconv spells it (e.g. UTF-16LE, CP1252), or None."""
    from charset_normalizer import from_bytes

    best = from_bytes(raw[:65536]).best()
    if best is None:
        return None
    name = codecs.lookup(best.encoding).name.upper()  # utf-16-le -> UTF-16-LE; iconv wants UTF-16LE
    return name.replace("-LE", "LE").replace("-BE", "BE")


def _encoding_error(source: str, problem: str, encoding: str, line: int | None) -> SpecError:
    q = shlex.quote(source)
    return SpecError(
        source,
        [
            SpecIssue(
                (),
                f"llama-infra reads specs as UTF-8 and {problem}",
                f"convert it: iconv -f {encoding} -t UTF-8 {q} > {q}.utf8 && mv {q}.utf8 {q}",
            )
        ],
        [line],
    )
