"""A reader of the expr-lang subset KEDA's `scalingModifiers.formula` is written in (`keda_formula` writes it):
parses the rendered text, not the builder's structure, and evaluates it over trigger values. The policy pack reads
replica floors with it, and the tests run the rendered ScaledObjects through KEDA's rules with it.

Grammar (expr-lang precedence, https://expr-lang.org/docs/language-definition):
  expr  := cmp ('?' expr ':' expr)?        cmp := sum (('>'|'<'|'>='|'<='|'==') sum)?
  sum   := term (('+'|'-') term)*          term := unary (('*'|'/') unary)*
  unary := '-' unary | atom                atom := number | name | name '(' expr (',' expr)* ')' | '(' expr ')'
Unknown names are errors, as KEDA's admission webhook compiles the formula with the trigger names as its env.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?(?:e[+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(>=|<=|==|[-+*/?:(),<>]))")
_FUNCS = {"max": max, "min": min}


def tokens(text: str) -> list[str]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise SyntaxError(f"unexpected {text[pos:]!r} in {text!r}")
        out.append(m.group(1) or m.group(2) or m.group(3))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str, env: dict[str, float]):
        self.toks, self.i, self.env, self.text = tokens(text), 0, env, text

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, want: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (want is not None and tok != want):
            raise SyntaxError(f"expected {want or 'more'} at token {self.i} of {self.text!r}")
        self.i += 1
        return tok

    def expr(self) -> float:
        cond = self.cmp()
        if self.peek() == "?":
            self.take("?")
            a = self.expr()
            self.take(":")
            b = self.expr()
            return a if cond else b
        return cond

    def cmp(self) -> float:
        left = self.sum()
        op = self.peek()
        if op in (">", "<", ">=", "<=", "=="):
            self.take()
            right = self.sum()
            return {
                ">": left > right,
                "<": left < right,
                ">=": left >= right,
                "<=": left <= right,
                "==": left == right,
            }[op]
        return left

    def sum(self) -> float:
        v = self.term()
        while self.peek() in ("+", "-"):
            v = v + self.term() if self.take() == "+" else v - self.term()
        return v

    def term(self) -> float:
        v = self.unary()
        while self.peek() in ("*", "/"):
            v = v * self.unary() if self.take() == "*" else v / self.unary()
        return v

    def unary(self) -> float:
        if self.peek() == "-":
            self.take()
            return -self.unary()
        return self.atom()

    def atom(self) -> float:
        tok = self.take()
        if tok == "(":
            v = self.expr()
            self.take(")")
            return v
        if re.fullmatch(r"\d.*", tok):
            return float(tok)
        if self.peek() == "(":
            if tok not in _FUNCS:
                raise NameError(f"unknown function {tok} in {self.text!r}")
            self.take("(")
            args = [self.expr()]
            while self.peek() == ",":
                self.take(",")
                args.append(self.expr())
            self.take(")")
            return float(_FUNCS[tok](args))
        if tok not in self.env:
            raise NameError(f"{tok} is not a trigger of this ScaledObject ({sorted(self.env)}): {self.text!r}")
        return float(self.env[tok])


def evaluate(text: str, env: dict[str, float]) -> float:
    p = _Parser(text, env)
    value = p.expr()
    if p.peek() is not None:
        raise SyntaxError(f"trailing {p.toks[p.i :]} in {text!r}")
    return float(value)
