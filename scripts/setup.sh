#!/usr/bin/env bash
# One-time set-up on Debian/Ubuntu: the system packages the agent (`run`) or the agent and
# its tests (`test`, the default) use, then a virtualenv in .venv with traycourier installed
# in editable mode. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

# `run`: what the agent needs on a desktop: GTK for XEmbed trays (StatusNotifier hosts get the
# agent's own item, which needs no library), notify-send, and
# what dbus-python and PyGObject compile with (a compiler, Python's own headers, the
# libraries' headers): PyPI has no wheels of either, so pip builds them. `test` adds the test desktops
# (Xvfb, DBus, the daemons and tray hosts of the matrix, xdotool, screenshots) and the .deb
# tools (lintian, debootstrap for the fresh-system test, patchelf). dbus-x11 is left out on
# purpose: its X11 autolaunch would start a stray second bus (docs/decisions.md).
what=${1:-test}
case "$what" in run|test) ;; *) echo "usage: $0 [run|test]" >&2; exit 64 ;; esac
APT_PACKAGES=(
  gir1.2-gtk-3.0 libnotify-bin xdg-utils
  build-essential pkg-config libdbus-1-dev libglib2.0-dev libgirepository1.0-dev
  libcairo2-dev python3-dev python3-venv
)
if [[ $what == test ]]; then
  APT_PACKAGES+=(
    xvfb xauth x11-utils dbus dunst trayer xdotool imagemagick desktop-file-utils sqlite3
    lintian debootstrap patchelf
    # the other notification daemons users run, for the desktop matrix (tests/desktop)
    xfce4-notifyd notification-daemon mate-notification-daemon lxqt-notificationd
    # StatusNotifier hosts: a watcher and a panel; the AppIndicator library many desktops
    # have, which the agent must not pick on an XEmbed tray (tests/desktop/test_tray_e2e.py)
    haskell-status-notifier-item-utils haskell-gtk-sni-tray-utils gir1.2-ayatanaappindicator3-0.1
    # more tray hosts: tint2 (XEmbed) with the window manager it needs, xfce4-panel (XEmbed
    # and StatusNotifier; xfconf holds its settings), and a headless Wayland session (sway,
    # grim for its screenshots) where only StatusNotifier exists
    tint2 openbox xfce4-panel xfconf sway grim
    # the throw-away PostgreSQL server the store and runtime tests also run against
    postgresql
    # the browser the history window is tested in (selenium drives it through chromedriver)
    chromium chromium-driver
  )
fi

if [[ ${2:-} == --list ]]; then  # what would be installed, one per line (the tests read it)
  printf '%s\n' "${APT_PACKAGES[@]}"
  exit 0
fi

# shellcheck source=scripts/need.sh
source scripts/need.sh
need_packages "${APT_PACKAGES[@]}"

PYTHON=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
if [[ $what == test ]]; then
  .venv/bin/python -m pip install -q -e '.[dev,bench,postgresql]'
else
  .venv/bin/python -m pip install -q -e .
fi
echo "setup: ready (.venv/bin/traycourier)" >&2
