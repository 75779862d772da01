#!/usr/bin/env bash
# Install the .deb into a minimal Debian 12 made with debootstrap, and prove it works there:
# --version, send, the agent delivering that notification to dunst on a DBus session under
# Xvfb with its tray icon docked in trayer (XEmbed), then its item registered and Active on a
# StatusNotifier host (status-notifier-watcher + gtk-sni-tray-standalone, no XEmbed tray:
# traycourier's own item, no AppIndicator library on the system), a menu click through its
# dbusmenu changing the setting; then purge, and nothing is left.
#   packaging/linux/fresh-system-test.sh build/traycourier_0.1.0_amd64.deb
# The debootstrap result is cached as a tarball (TC_CACHE_DIR) and built when missing
# (packaging/linux/debian-root.sh).
set -euo pipefail
deb=$(realpath "$1")
here=$(cd "$(dirname "$0")/../.." && pwd)
root=$(mktemp -d /tmp/tc-fresh.XXXXXX)
say() { printf '[fresh-system] %s\n' "$*" >&2; }
# shellcheck source=scripts/need.sh
source "$here/scripts/need.sh"
# shellcheck source=packaging/linux/debian-root.sh
source "$here/packaging/linux/debian-root.sh"
need_packages debootstrap
trap 'debian_root_remove "$root"' EXIT
say "a minimal Debian 12 (debootstrap, cached in ${TC_CACHE_DIR:-/var/cache/traycourier-ci})"
debian_root bookworm "$root"
cp "$deb" "$root/tmp/traycourier.deb"
cp "$here/scripts/desktop-session.sh" "$root/tmp/desktop-session.sh"

in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

say "installing the package with apt (and a desktop to test it in)"
in_root apt-get update -q >/dev/null
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  /tmp/traycourier.deb xvfb xauth x11-utils dbus dunst trayer libglib2.0-bin \
  haskell-status-notifier-item-utils haskell-gtk-sni-tray-utils >/dev/null

say "running it"
in_root sh -c 'traycourier --version' | grep -qx "traycourier $(dpkg-deb -f "$deb" Version)"
in_root env TC_NOTIFY_HOOK=0 TC_LOGDIR=/tmp/logs /tmp/desktop-session.sh sh -ec '
  export TRAYCOURIER_DB=/root/tc.db
  traycourier self-test
  id=$(traycourier send --priority urgent "Hello from a fresh system" "installed with apt")
  traycourier run >/tmp/logs/agent.log 2>&1 &
  agent=$!
  i=0
  until grep -q "Hello from a fresh system" /tmp/logs/dbus-monitor.log 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 300 ] || { echo "not delivered"; cat /tmp/logs/agent.log; exit 1; }
    sleep 0.1
  done
  i=0
  until xwininfo -root -tree | grep -q "\"traycourier\""; do
    i=$((i + 1)); [ $i -lt 300 ] || { echo "icon not docked"; cat /tmp/logs/agent.log; exit 1; }
    sleep 0.1
  done
  traycourier status | grep -q "sent 1"
  kill -TERM $agent; wait $agent
  echo "delivered $id and docked"
'

say "on a StatusNotifier host"
in_root env TC_NOTIFY_HOOK=0 TC_TRAY=0 TC_LOGDIR=/tmp/sni-logs /tmp/desktop-session.sh sh -ec '
  export TRAYCOURIER_DB=/root/tc.db
  status-notifier-watcher >/tmp/sni-logs/watcher.log 2>&1 &
  sleep 0.5
  gtk-sni-tray-standalone --top --end >/tmp/sni-logs/host.log 2>&1 &
  traycourier run >/tmp/sni-logs/agent.log 2>&1 &
  agent=$!
  item=/StatusNotifierItem
  i=0
  until gdbus call --session --dest org.kde.StatusNotifierWatcher \
      --object-path /StatusNotifierWatcher --method org.freedesktop.DBus.Properties.Get \
      org.kde.StatusNotifierWatcher RegisteredStatusNotifierItems 2>/dev/null \
      | grep -q "org.kde.StatusNotifierItem-"; do
    i=$((i + 1)); [ $i -lt 300 ] || { echo "no item registered"; cat /tmp/sni-logs/agent.log; exit 1; }
    sleep 0.1
  done
  owner=$(gdbus call --session --dest org.kde.StatusNotifierWatcher \
      --object-path /StatusNotifierWatcher --method org.freedesktop.DBus.Properties.Get \
      org.kde.StatusNotifierWatcher RegisteredStatusNotifierItems \
      | grep -o "org.kde.StatusNotifierItem-[0-9]*-[0-9]*" | head -1)
  i=0
  until gdbus call --session --dest "$owner" --object-path $item \
      --method org.freedesktop.DBus.Properties.Get org.kde.StatusNotifierItem Status \
      2>/dev/null | grep -q Active; do
    i=$((i + 1)); [ $i -lt 300 ] || { echo "item not Active"; cat /tmp/sni-logs/agent.log; exit 1; }
    sleep 0.1
  done
  grep -q "tray icon up (traycourier.agent.tray.snitem)" "$HOME/.local/state/traycourier/log/traycourier.log"
  switch=$(gdbus call --session --dest "$owner" --object-path /MenuBar \
      --method com.canonical.dbusmenu.GetLayout -- 0 -1 "[]" \
      | grep -o "([0-9]*, {.label.: <.Notifications enabled.>" | grep -o "^([0-9]*" | tr -d "(")
  gdbus call --session --dest "$owner" --object-path /MenuBar \
      --method com.canonical.dbusmenu.Event -- "$switch" clicked "<int32 0>" 0 >/dev/null
  i=0
  until traycourier settings get enable_notifications | grep -q false; do
    i=$((i + 1)); [ $i -lt 300 ] || { echo "the menu click did nothing"; cat /tmp/sni-logs/agent.log; exit 1; }
    sleep 0.1
  done
  kill -TERM $agent; wait $agent
  echo "item $owner$item Active; its menu switched notifications off"
'

say "purging"
in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q traycourier >/dev/null
for path in /opt/traycourier /usr/bin/traycourier /usr/share/applications/traycourier.desktop \
  /etc/xdg/autostart/traycourier.desktop /usr/share/icons/hicolor/48x48/apps/traycourier.png \
  /usr/share/doc/traycourier; do
  [[ ! -e "$root$path" ]] || { say "left behind: $path"; exit 1; }
done
say "ok"
