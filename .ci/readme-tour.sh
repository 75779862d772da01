#!/usr/bin/env bash
# The README's 60-second tour, run as written on a machine without a desktop (CI runs it in
# fresh Debian roots, .ci/fresh-debian.sh): the agent starts and says why it runs headless,
# `send` prints an id and says that no notification daemon is reachable and what becomes of
# the notification, and `status` shows it handled: tried, with the reason recorded.
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "tour: $*" >&2; exit 1; }
tc=.venv/bin/traycourier
work=$(mktemp -d)
agent=
trap '[[ -z $agent ]] || kill "$agent" 2>/dev/null; rm -rf "$work"' EXIT
export TRAYCOURIER_DB=$work/tour.db

# the shell block after "## A 60-second tour", comments dropped
mapfile -t commands < <(awk '
  /^## A 60-second tour/ { section = 1 }
  section && /^```sh/ { block = 1; next }
  block && /^```/ { exit }
  block {
    sub(/[ \t]+#.*/, "")
    if (sub(/\\$/, "")) { joined = joined $0; next }  # continued on the next line
    line = joined $0; joined = ""
    if (line != "") print line
  }' README.md)
(( ${#commands[@]} >= 3 )) || fail "the README has no tour block"

for command in "${commands[@]}"; do
  echo "\$ $command"
  if [[ $command == *"&" ]]; then
    eval "${command%&} >$work/agent.out 2>$work/agent.err &"
    agent=$!
    # a user types the next command once the agent is up
    for _ in $(seq 300); do
      "$tc" status 2>/dev/null | grep -q "^agent .* pid $agent " && break
      kill -0 "$agent" 2>/dev/null || { cat "$work/agent.err"; fail "the agent ended"; }
      sleep 0.1
    done
  else
    eval "$command" >"$work/out" 2>"$work/err" || { cat "$work/err"; fail "'$command' failed"; }
    cat "$work/out" "$work/err"
  fi
done
[[ -n $agent ]] || fail "the tour starts no agent"
grep -q "^ntf_" "$work/out" || fail "send printed no id"
grep -q "no notification daemon reachable" "$work/err" || fail "send did not say there is no daemon"

for _ in $(seq 300); do  # the agent tries it and records why it could not be shown
  "$tc" deliveries | grep -q "\[daemon_unreachable\]" && break
  sleep 0.1
done
"$tc" status | tee "$work/status"
grep -q "^deliveries.*\(retry_wait\|failed\) 1" "$work/status" || fail "status shows it not handled"
grep -q "^notifier .*no notification daemon reachable" "$work/status" ||
  fail "status does not say there is no daemon"
kill -TERM "$agent"
wait "$agent" || fail "the agent did not stop cleanly (exit $?)"
agent=
grep -q "headless" "$work/agent.err" || fail "the agent did not say why it runs headless"
echo "tour: ok"
