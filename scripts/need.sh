# Sourced by scripts/setup.sh and the packaging scripts: what a command needs before it can
# start on a fresh clone of a fresh Debian, installed only when missing, so each script run
# exactly as the README shows it sets itself up.
#   need_packages PKG...   Debian packages (apt, with sudo when not root)
#   need_venv              .venv with traycourier installed (scripts/setup.sh run)
# shellcheck shell=bash

need_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$pkg")
  done
  (( ${#missing[@]} )) || return 0
  echo "setup: installing ${missing[*]}" >&2
  local sudo_cmd=()
  [[ $(id -u) == 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
}

need_venv() {
  local top
  top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  [[ -x "$top/.venv/bin/traycourier" ]] || "$top/scripts/setup.sh" run
}
