#!/usr/bin/env bash
# The README's commands on a truly fresh Debian RELEASE (bookworm, trixie): a minimal root
# made with debootstrap (cached, packaging/linux/debian-root.sh), this commit cloned into it,
# and there, as a user with sudo in a clean environment (PATH, HOME and CI only, so nothing
# of this machine's hides a missing step): `make setup-run`, the 60-second tour without a
# desktop (.ci/readme-tour.sh), and `make setup`. One line per step with its time; the end
# of a failed step's log is printed, and the whole logs stay in TC_ARTIFACTS.
# With --build-deb, then in a second fresh clone: `packaging/linux/build-deb.sh` as the
# README shows it (it sets up its own .venv) with this Debian's own Python.
#   .ci/fresh-debian.sh trixie        (as root)
#   .ci/fresh-debian.sh bookworm --build-deb
set -euo pipefail
release=$1
build_deb=${2:-}
here=$(cd "$(dirname "$0")/.." && pwd)
logs=${TC_ARTIFACTS:-/tmp}/fresh-$release
mkdir -p "$logs"
# shellcheck source=scripts/need.sh
source "$here/scripts/need.sh"
# shellcheck source=packaging/linux/debian-root.sh
source "$here/packaging/linux/debian-root.sh"
need_packages debootstrap >"$logs/host-packages.log" 2>&1
root=$(mktemp -d "/tmp/tc-$release.XXXXXX")
trap 'debian_root_remove "$root"' EXIT

step() {
  local name=$1 log started=$SECONDS
  shift
  log=$logs/$(tr 'A-Z ' 'a-z-' <<<"$name" | tr -cd 'a-z0-9.-').log
  if "$@" >"$log" 2>&1; then
    echo "[fresh $release] $name: ok ($((SECONDS - started)) s)"
  else
    echo "[fresh $release] $name: FAILED after $((SECONDS - started)) s; the end of $log:"
    tail -40 "$log" | sed 's/^/    /'
    exit 1
  fi
}

clone() {  # this commit, into the user's home
  git clone --quiet --no-hardlinks "$here" "$root/home/user/$1"
  git -C "$root/home/user/$1" checkout --quiet "$(git -C "$here" rev-parse HEAD)"
  chroot "$root" chown -R user:user "/home/user/$1"
}

make_root() {
  debian_root "$release" "$root"
  chroot "$root" useradd --create-home --shell /bin/bash user
  echo 'user ALL=(ALL) NOPASSWD:ALL' >"$root/etc/sudoers.d/user"
  clone traycourier
}

as_user() {  # in a clone, with a login's environment and nothing more
  chroot "$root" env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/home/user CI=true \
    setpriv --reuid=user --regid=user --init-groups bash -c "cd ~/$1 && $2"
}

step "a fresh Debian root" make_root
step "make setup-run" as_user traycourier "make setup-run"
step "the README tour, no desktop" as_user traycourier ".ci/readme-tour.sh"
step "make setup" as_user traycourier "make setup"
if [[ $build_deb == --build-deb ]]; then
  step "build-deb.sh in a fresh clone" eval 'clone packaging && as_user packaging \
    "packaging/linux/build-deb.sh && dpkg-deb -f build/traycourier_*.deb Version"'
fi
