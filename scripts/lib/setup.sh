# Sourced by scripts/start.sh, scripts/test.sh and .ci/run: brings Node 22+ and the npm packages.
# Why a script and not just `npm`: Debian's Node 20 is end-of-life and makes npm pick old releases,
# so the project brings its own Node 22 (the registry's `node` package) into .tools/ when needed.
set -euo pipefail

PROJECT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
NODE_MAJOR_REQUIRED=22
TOOLS_NODE_DIR="$PROJECT_ROOT/.tools/node22"

say() { printf '\033[1;36m[setup]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[setup] %s\033[0m\n' "$*" >&2; exit 1; }

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_node() {
  if [ -x "$TOOLS_NODE_DIR/node_modules/.bin/node" ]; then
    export PATH="$TOOLS_NODE_DIR/node_modules/.bin:$PATH"
  fi
  if command -v node >/dev/null && [ "$(node_major node)" -ge "$NODE_MAJOR_REQUIRED" ]; then
    return
  fi
  command -v npm >/dev/null || die "Node.js ${NODE_MAJOR_REQUIRED}+ and npm are required (neither found)."
  say "Node $(node --version 2>/dev/null || echo none) is older than ${NODE_MAJOR_REQUIRED}: installing node@${NODE_MAJOR_REQUIRED} into .tools/ (one-time)"
  mkdir -p "$TOOLS_NODE_DIR"
  npm install --no-save --no-package-lock --prefix "$TOOLS_NODE_DIR" "node@${NODE_MAJOR_REQUIRED}" >/dev/null 2>&1 \
    || die "could not install node@${NODE_MAJOR_REQUIRED} from the npm registry"
  export PATH="$TOOLS_NODE_DIR/node_modules/.bin:$PATH"
  [ "$(node_major node)" -ge "$NODE_MAJOR_REQUIRED" ] || die "node@${NODE_MAJOR_REQUIRED} installed but not usable"
}

# Electron's installer downloads its binary from GitHub. Where that host cannot be reached (this build
# machine, CI) skip the download so the rest installs; elsewhere `npm install` fetches Electron as usual.
decide_electron_download() {
  if [ -n "${ELECTRON_SKIP_BINARY_DOWNLOAD:-}" ]; then return; fi
  if ! node -e 'require("dns").lookup("github.com",e=>process.exit(e?1:0))' 2>/dev/null; then
    say "github.com unreachable: installing without the Electron binary (the console will run in the browser host)"
    export ELECTRON_SKIP_BINARY_DOWNLOAD=1
  fi
}

ensure_npm_packages() {
  cd "$PROJECT_ROOT"
  local stamp="node_modules/.install-stamp"
  if [ -f "$stamp" ] && [ "$stamp" -nt package-lock.json ] && [ "$stamp" -nt package.json ]; then return; fi
  decide_electron_download
  say "installing npm packages (npm ci)"
  npm ci --no-fund --no-audit --loglevel=error || die "npm ci failed"
  touch "$stamp"
}

# Debian packages the tests drive for real. Installed when root (or via passwordless sudo); else named.
TEST_DEBIAN_PACKAGES=(chromium xvfb xauth fonts-noto-cjk kamailio kamailio-websocket-modules ffmpeg iproute2 janus postgresql nats-server redis-server)

ensure_debian_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  local apt=()
  if [ "$(id -u)" -eq 0 ]; then apt=(apt-get); elif sudo -n true 2>/dev/null; then apt=(sudo -n apt-get); else
    die "missing Debian packages: ${missing[*]} — install them with: sudo apt-get install ${missing[*]}"
  fi
  say "installing Debian packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install failed for: ${missing[*]}"
}

# Debian packages the demo uses when present (live cameras, SIP calls, CJK text): installed when root or with
# passwordless sudo; otherwise named, and the console runs without them (its tiles say what is missing).
DEMO_DEBIAN_PACKAGES=(ffmpeg kamailio kamailio-websocket-modules fonts-noto-cjk)

offer_debian_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  command -v apt-get >/dev/null 2>&1 || { say "optional packages not found: ${missing[*]} (live demo cameras and calls stay off)"; return; }
  if [ "$(id -u)" -eq 0 ] || sudo -n true 2>/dev/null; then
    ( ensure_debian_packages "${missing[@]}" ) || say "could not install ${missing[*]}: live demo cameras and calls stay off"
  else
    say "for live demo cameras and calls: sudo apt-get install ${missing[*]}"
  fi
}
