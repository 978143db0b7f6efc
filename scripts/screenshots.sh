#!/usr/bin/env bash
# The README's pictures: drives the packaged extension through each flow in code-server against the simulated Azure's
# demo data (the e2e suites, in the light theme at a fixed window size), then compresses them into media/screenshots/.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
need_debian_packages
need_node_modules
need_code_server
node node_modules/typescript/bin/tsc -p test
npm run -s package >/dev/null
rm -f media/screenshots/*.png
mkdir -p test-results
AKSWI_SCREENSHOTS=1 node scripts/run-tests.mjs e2e --no-package >test-results/screenshots-run.log 2>&1 || {
  echo "An e2e suite failed while taking screenshots: see test-results/screenshots-run.log" >&2
  exit 1
}
pngquant --force --ext .png --quality 60-90 --speed 1 --strip media/screenshots/*.png
ls -l media/screenshots/*.png | awk '{ printf "%s %d KiB\n", $9, $5 / 1024 }'
