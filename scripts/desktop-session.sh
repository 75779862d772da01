#!/usr/bin/env bash
# Run one command inside a private, throw-away desktop: Xvfb, a DBus session bus with no
# service activation, dunst (a real notification daemon) logging every notification as a
# JSON line, and trayer (an XEMBED tray host). Everything is stopped by saved PID at exit.
#
#   scripts/desktop-session.sh COMMAND [ARG...]      exit status = COMMAND's (70: session failed)
#
# Environment knobs: TC_NOTIFYD=0 (no notification daemon) or the daemon to run: dunst (the
# default, markup = full), dunst-nomarkup, xfce4-notifyd, notification-daemon,
# mate-notification-daemon, lxqt-notificationd; TC_TRAY=0 (no tray host),
# TC_MONITOR=0 (no dbus-monitor log of Notify calls), TC_NOTIFY_HOOK=0 (dunst runs no
# script per notification, so TC_NOTIFY_LOG stays empty: for benchmarks),
# TC_LOGDIR=DIR (keep logs there), TC_SCREEN=1024x768x24, TC_START_TIMEOUT=15,
# TC_TRAY_HEIGHT=32 (the panel's height: its icons' size), TC_TRAY_TINT=0xRRGGBB (its colour).
# Exported to COMMAND: DISPLAY, DBUS_SESSION_BUS_ADDRESS, XDG_RUNTIME_DIR, TC_NOTIFY_LOG,
# TC_LOGDIR, TC_DUNST_PID; also written to $TC_LOGDIR/session.env once the session is up.
set -euo pipefail

run_dir=$(mktemp -d /tmp/tc-desktop.XXXXXX)
chmod 700 "$run_dir"
log_dir=${TC_LOGDIR:-$run_dir/logs}
mkdir -p "$log_dir" "$run_dir/xdg" "$run_dir/services"
chmod 700 "$run_dir/xdg"
timeout_s=${TC_START_TIMEOUT:-15}
pids=()
cmd_pid=""

say() { printf '[desktop-session] %s\n' "$*" >&2; }

stop_all() {
  local rc=$? i pid n
  set +e
  if [[ -n "$cmd_pid" ]] && kill -0 -- "-$cmd_pid" 2>/dev/null; then
    kill -TERM -- "-$cmd_pid" 2>/dev/null; sleep 1; kill -KILL -- "-$cmd_pid" 2>/dev/null
  fi
  for (( i=${#pids[@]}-1; i>=0; i-- )); do
    pid=${pids[$i]}
    kill -CONT "$pid" 2>/dev/null   # a test may have stopped dunst
    kill -TERM "$pid" 2>/dev/null
    for (( n=0; n<50; n++ )); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  rm -rf "$run_dir"
  exit "$rc"
}
trap stop_all EXIT
trap 'exit 143' TERM HUP
trap 'exit 130' INT

wait_until() {  # wait_until WHAT COMMAND...
  local what=$1 deadline=$(( SECONDS + timeout_s )); shift
  until "$@" >/dev/null 2>&1; do
    (( SECONDS < deadline )) || { say "gave up waiting for $what (logs: $log_dir)"; exit 70; }
    sleep 0.1
  done
}
has_content() { [[ -s "$1" ]]; }
bus_name_owned() {
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner "string:$1" | grep -q 'boolean true'
}

[[ $# -ge 1 ]] || { echo "usage: $0 COMMAND [ARG...]" >&2; exit 64; }

# Nothing of the host's desktop may leak in (a second bus would swallow notifications).
unset WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS DISPLAY XAUTHORITY SESSION_MANAGER || true
export XDG_RUNTIME_DIR="$run_dir/xdg" GDK_BACKEND=x11 NO_AT_BRIDGE=1 GSETTINGS_BACKEND=memory
export XDG_SESSION_TYPE=x11 TC_LOGDIR="$log_dir"

Xvfb -displayfd 5 -screen 0 "${TC_SCREEN:-1024x768x24}" -nolisten tcp -noreset \
  5>"$run_dir/display" >"$log_dir/xvfb.log" 2>&1 </dev/null &
pids+=($!)
wait_until "Xvfb" has_content "$run_dir/display"
export DISPLAY=":$(tr -dc '0-9' <"$run_dir/display")"
wait_until "X display $DISPLAY" xdpyinfo

# The bus has an empty service directory: a missing name fails at once instead of being
# started behind our back by D-Bus activation.
cat >"$run_dir/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:path=$run_dir/xdg/bus</listen>
  <auth>EXTERNAL</auth>
  <servicedir>$run_dir/services</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
dbus-daemon --config-file="$run_dir/bus.conf" --nofork --nopidfile --print-address=6 \
  6>"$run_dir/bus-address" >"$log_dir/dbus.log" 2>&1 </dev/null &
pids+=($!)
wait_until "the DBus address" has_content "$run_dir/bus-address"
export DBUS_SESSION_BUS_ADDRESS=$(head -n1 "$run_dir/bus-address")
wait_until "the DBus bus" dbus-send --session --print-reply --dest=org.freedesktop.DBus \
  /org/freedesktop/DBus org.freedesktop.DBus.GetId

if [[ "${TC_MONITOR:-1}" == 1 ]]; then
  # every Notify call with its arguments and the time the bus routed it
  dbus-monitor --session "type='method_call',interface='org.freedesktop.Notifications'" \
    >"$log_dir/dbus-monitor.log" 2>&1 </dev/null &
  pids+=($!)
fi

export TC_NOTIFY_LOG="$log_dir/notifications.jsonl"
: >"$TC_NOTIFY_LOG"
export TC_DUNST_PID=""
notifyd=${TC_NOTIFYD:-1}
[[ "$notifyd" == 1 ]] && notifyd=dunst
if [[ "$notifyd" == dunst || "$notifyd" == dunst-nomarkup ]]; then
  # dunst runs this for every notification with DUNST_* variables set; it appends one line.
  cat >"$run_dir/log-notification" <<'HOOK'
#!/bin/sh
exec python3 -c '
import json, os, sys
record = {k[6:].lower(): v for k, v in os.environ.items() if k.startswith("DUNST_")}
with open(sys.argv[1], "a", encoding="utf-8") as out:
    out.write(json.dumps(record, sort_keys=True) + "\n")
' "$TC_NOTIFY_LOG"
HOOK
  chmod +x "$run_dir/log-notification"
  # `dunstctl context` runs this with one line per action on stdin ("#Approve (Deploy?)
  # [2,0]") and invokes the line it prints: the label a test wrote to $TC_LOGDIR/pick.
  cat >"$run_dir/pick" <<'PICK'
#!/bin/sh
wanted=$(cat "$TC_LOGDIR/pick" 2>/dev/null)
tee -a "$TC_LOGDIR/menu-offered.log" | grep -m1 -F "#$wanted ("
PICK
  chmod +x "$run_dir/pick"
  cat >"$run_dir/dunstrc" <<CONF
[global]
    font = DejaVu Sans 10
    markup = $([[ "$notifyd" == dunst ]] && echo full || echo no)
    format = "%s\n%b"
    origin = top-right
    offset = 10x50
    width = 360
    history_length = 500
    always_run_script = true
    show_age_threshold = -1
    dmenu = $run_dir/pick
CONF
  if [[ "${TC_NOTIFY_HOOK:-1}" == 1 ]]; then
    printf '[log_every_notification]\n    summary = "*"\n    script = %s\n' \
      "$run_dir/log-notification" >>"$run_dir/dunstrc"
  fi
  dunst -config "$run_dir/dunstrc" >"$log_dir/dunst.log" 2>&1 </dev/null &
  pids+=($!)
  TC_DUNST_PID=$!
  wait_until "dunst on the bus" bus_name_owned org.freedesktop.Notifications
elif [[ "$notifyd" != 0 ]]; then
  # the other daemons users run (docs: ../shared research, desktops.md), from Debian
  case "$notifyd" in
    xfce4-notifyd) daemon=(/usr/lib/*/xfce4/notifyd/xfce4-notifyd) ;;
    notification-daemon) daemon=(/usr/lib/notification-daemon/notification-daemon) ;;
    mate-notification-daemon) daemon=(/usr/lib/mate-notification-daemon/mate-notification-daemon) ;;
    lxqt-notificationd) daemon=(lxqt-notificationd) ;;
    *) say "unknown TC_NOTIFYD=$notifyd"; exit 70 ;;
  esac
  "${daemon[@]}" >"$log_dir/$notifyd.log" 2>&1 </dev/null &
  pids+=($!)
  wait_until "$notifyd on the bus" bus_name_owned org.freedesktop.Notifications
fi

if [[ "${TC_TRAY:-1}" == 1 ]]; then
  background=(--transparent false)
  if [[ -n "${TC_TRAY_TINT:-}" ]]; then  # a panel of that colour (0xRRGGBB)
    background=(--transparent true --alpha 0 --tint "$TC_TRAY_TINT")
  fi
  trayer --edge top --align right --widthtype request --height "${TC_TRAY_HEIGHT:-32}" \
    --SetDockType true --SetPartialStrut true "${background[@]}" \
    >"$log_dir/trayer.log" 2>&1 </dev/null &
  pids+=($!)
  panel_up() { xwininfo -root -tree | grep -q '"panel"'; }
  wait_until "trayer" panel_up
  sleep 0.3  # trayer takes the tray selection just after its window maps
fi

printf '%s\n' "DISPLAY=$DISPLAY" "DBUS_SESSION_BUS_ADDRESS=$DBUS_SESSION_BUS_ADDRESS" \
  "XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR" "TC_NOTIFY_LOG=$TC_NOTIFY_LOG" \
  "TC_DUNST_PID=$TC_DUNST_PID" "TC_LOGDIR=$log_dir" "GDK_BACKEND=x11" "NO_AT_BRIDGE=1" \
  "GSETTINGS_BACKEND=memory" >"$log_dir/session.env.tmp"
mv "$log_dir/session.env.tmp" "$log_dir/session.env"
say "up: DISPLAY=$DISPLAY logs=$log_dir"

set +e
setsid "$@" &
cmd_pid=$!
wait "$cmd_pid"
rc=$?
set -e
exit "$rc"
