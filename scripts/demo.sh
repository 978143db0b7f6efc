#!/usr/bin/env bash
# Starts the extension in a real VS Code in the browser (code-server) against a simulated Azure with demo data.
# Usage: bash scripts/demo.sh [--port 8080]
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
need_debian_packages
need_node_modules
need_code_server
node node_modules/typescript/bin/tsc -p test
npm run -s package >/dev/null
exec node out/test/support/demo.js "$@"
