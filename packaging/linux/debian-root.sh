# Sourced by the scripts that prove something on a fresh Debian (packaging/linux/
# fresh-system-test.sh, .ci/fresh-debian.sh): a minimal Debian made with debootstrap, as a
# new user's machine starts (minbase, plus what the README assumes: git, make, sudo and the
# certificate authorities), kept as a tarball in TC_CACHE_DIR and built when missing.
#   debian_root RELEASE DIR     DIR becomes that Debian, /proc mounted, the network usable
#   debian_root_remove DIR
# shellcheck shell=bash

debian_root() {
  local release=$1 root=$2
  local cache=${TC_CACHE_DIR:-/var/cache/traycourier-ci}
  local tarball=$cache/$release-root.tar
  if [[ ! -s "$tarball" ]]; then
    mkdir -p "$cache"
    local base
    base=$(mktemp -d "/tmp/tc-debootstrap-$release.XXXXXX")
    if ! debootstrap --variant=minbase --include=ca-certificates,git,make,sudo \
      "$release" "$base" "$(_debian_mirror)" >"$cache/debootstrap-$release.log" 2>&1; then
      tail -20 "$cache/debootstrap-$release.log" >&2
      rm -rf "$base"
      return 1
    fi
    tar -C "$base" -cf "$tarball.tmp.$$" . && mv "$tarball.tmp.$$" "$tarball"
    rm -rf "$base"
  fi
  tar -C "$root" -xf "$tarball"
  chmod 0755 "$root"  # mktemp made it private: every user of the guest walks through it
  # a root is not a booted machine: packages install their services without starting them
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 0755 "$root/usr/sbin/policy-rc.d"
  mount -t proc proc "$root/proc"
  # This machine's network as the guest's: its resolver and host names, and the
  # certificate authorities it trusts beyond Debian's own (a TLS-inspecting proxy's, say),
  # without which no https download works from inside.
  cp /etc/resolv.conf /etc/hosts "$root/etc/"
  local cert real
  for cert in /etc/ssl/certs/*.pem; do
    real=$(realpath "$cert")
    case $real in
      /usr/share/ca-certificates/*) ;;
      *) cp "$real" "$root/usr/local/share/ca-certificates/host-$(basename "$cert" .pem).crt" ;;
    esac
  done
  chroot "$root" update-ca-certificates >/dev/null 2>&1
}

debian_root_remove() {
  local root=$1 pid
  for pid in /proc/[0-9]*; do  # anything still running inside (an agent a step left)
    if [[ "$(readlink "$pid/root" 2>/dev/null)" == "$root" ]]; then
      kill -9 "${pid#/proc/}" 2>/dev/null || true
    fi
  done
  umount -l "$root/proc" 2>/dev/null || true
  rm -rf --one-file-system "$root"
}

_debian_mirror() {  # the Debian mirror apt on this machine already uses
  local uri
  uri=$(grep -hm1 '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | head -1)
  [[ -n "$uri" ]] || uri=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null)
  echo "${uri:-http://deb.debian.org/debian}"
}
