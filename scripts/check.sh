#!/usr/bin/env bash
# The project's test command (README, CI): build, host prerequisites, typecheck, lint, format,
# then every test — unit, namespace and lab tests alike. Namespace tests need root.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step build
npm run --silent build
step "host prerequisites"
node dist/klab.js setup
step typecheck
npm run --silent typecheck
step lint
npm run --silent lint
step "format check"
npm run --silent format:check
step tests
report=$(mktemp)
trap 'rm -f "$report"' EXIT
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' "$report" || true
exit "$status"
