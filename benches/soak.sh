#!/usr/bin/env bash
# Days in minutes: a soak run of `flowlint live` (not a CI test; needs root,
# tcpreplay and iproute2).
#
# Replays mixed captures (flowlint-gen's default mix: sessions, refused and
# unanswered attempts, unlisted traffic, IPv6, VLAN) in a loop into a veth
# pair inside a private network namespace for DURATION seconds (default
# 1800), with a client population that rises step by step up to CLIENTS_MAX
# and then stays there, as a network's does once every host has shown up.
# `flowlint live` runs as it would in production: privileges dropped,
# seccomp, a checkpoint every 60 s, a summary every 10 s. Every SAMPLE
# seconds (default 10) the script samples live's RSS and CPU (from /proc),
# its cumulative drops and the connections it has open (from its summary
# line), and prints one row of the curve; at the end it compares the RSS of
# the last third of the run with the RSS when the population was reached
# (target: flat, within 10 %).
#
#   sudo benches/soak.sh                       # 30 minutes
#   sudo DURATION=120 benches/soak.sh          # a two-minute look
#   PPS=4000 CLIENTS_MAX=8000 STEPS=8 ...      # rate and population
#   BIN=target/release benches/soak.sh         # binaries built already
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-1800}
SAMPLE=${SAMPLE:-10}
PPS=${PPS:-3000}
CLIENTS_MAX=${CLIENTS_MAX:-4000}
STEPS=${STEPS:-5}
PACKETS=${PACKETS:-60000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target-live}
# BIN=DIR: the flowlint and flowlint-gen built there, instead of building.
if [ -z "${BIN:-}" ]; then
  nice -n 19 cargo build --release --features live --bin flowlint --bin flowlint-gen >&2
  BIN=$CARGO_TARGET_DIR/release
fi
WORK=$(mktemp -d)
chmod 755 "$WORK"
# Copies: a rebuild during the run must not change what is measured.
cp "$BIN/flowlint" "$BIN/flowlint-gen" "$WORK/"
BIN=$WORK/flowlint
GEN=$WORK/flowlint-gen
mkdir -m 1777 "$WORK/out"
NS=flowlint-soak-$$
REPLAY_PID=""
cleanup() {
  [ -n "$REPLAY_PID" ] && kill "$REPLAY_PID" 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# One capture per population step: step k has CLIENTS_MAX*k/STEPS clients.
for k in $(seq 1 "$STEPS"); do
  clients=$(( CLIENTS_MAX * k / STEPS ))
  "$GEN" bench --packets "$PACKETS" --flows $(( clients * 3 )) --clients "$clients" \
    --seed "$k" --format pcap --out "$WORK/step$k.pcap" >&2
done

ip netns add "$NS"
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip -n "$NS" link add v0 type veth peer name v1
ip -n "$NS" link set v0 up
ip -n "$NS" link set v1 up
in_ns() { ip netns exec "$NS" "$@"; }

# Not through in_ns: a function run in the background is a subshell, and
# $! must be the process that `ip netns exec` turns into flowlint.
ip netns exec "$NS" "$BIN" live -i v1 --format json -o "$WORK/out/soak.json" --checkpoint 60 \
  --interval "$SAMPLE" 2>"$WORK/live.err" &
LIVE_PID=$!
sleep 2

# The replayer: the population rises over the first half of the run, one
# step at a time, then the largest population is replayed until the end.
(
  step_secs=$(( DURATION / 2 / STEPS ))
  [ "$step_secs" -lt 1 ] && step_secs=1
  start=$(date +%s)
  while :; do
    k=$(( ($(date +%s) - start) / step_secs + 1 ))
    [ "$k" -gt "$STEPS" ] && k=$STEPS
    in_ns tcpreplay -q --pps "$PPS" -i v0 "$WORK/step$k.pcap" >/dev/null 2>&1 || true
  done
) &
REPLAY_PID=$!

hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

printf '%6s %7s %9s %6s %10s %8s %8s %8s\n' t_s clients rss_kb cpu_% packets open k_drop app_drop
started=$(date +%s)
last_ticks=$(cpu_ticks "$LIVE_PID")
reached_rss=""
rows="$WORK/rows"
: >"$rows"
while [ $(( $(date +%s) - started )) -lt "$DURATION" ]; do
  sleep "$SAMPLE"
  t=$(( $(date +%s) - started ))
  ticks=$(cpu_ticks "$LIVE_PID")
  cpu=$(( (ticks - last_ticks) * 100 / hz / SAMPLE ))
  last_ticks=$ticks
  rss=$(rss_kb "$LIVE_PID")
  step_secs=$(( DURATION / 2 / STEPS )); [ "$step_secs" -lt 1 ] && step_secs=1
  k=$(( t / step_secs + 1 )); [ "$k" -gt "$STEPS" ] && k=$STEPS
  clients=$(( CLIENTS_MAX * k / STEPS ))
  # The last summary line: "N packets (...), M open, ...; dropped: kernel K, interface I, app A"
  line=$(grep -a 'open, ' "$WORK/live.err" | tail -n 1 || true)
  packets=$(sed -nE 's/.*: ([0-9]+) packets.*/\1/p' <<<"$line")
  open=$(sed -nE 's/.* ([0-9]+) open,.*/\1/p' <<<"$line")
  kdrop=$(sed -nE 's/.*dropped: kernel ([0-9]+),.*/\1/p' <<<"$line")
  adrop=$(sed -nE 's/.*, app ([0-9]+).*/\1/p' <<<"$line")
  printf '%6s %7s %9s %6s %10s %8s %8s %8s\n' "$t" "$clients" "$rss" "$cpu" \
    "${packets:-0}" "${open:-0}" "${kdrop:-0}" "${adrop:-0}" | tee -a "$rows"
  if [ -z "$reached_rss" ] && [ "$t" -ge $(( DURATION / 2 )) ]; then reached_rss=$rss; fi
done
kill "$REPLAY_PID" 2>/dev/null || true
wait "$REPLAY_PID" 2>/dev/null || true
REPLAY_PID=""
kill -INT "$LIVE_PID"
wait "$LIVE_PID" || true

last_third=$(awk -v from=$(( DURATION * 2 / 3 )) '$1 >= from {s += $3; n++} END {if (n) printf "%d", s / n}' "$rows")
echo "RSS when the population was reached: ${reached_rss:-?} kB; mean over the last third: ${last_third:-?} kB"
if [ -n "$reached_rss" ] && [ -n "$last_third" ]; then
  awk -v a="$reached_rss" -v b="$last_third" 'BEGIN {
    d = (b - a) * 100 / a; printf "RSS change after the population was reached: %+.1f %% (target: within 10 %%)\n", d }'
fi
python3 - "$WORK/out/soak.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
l = r["live"]
print(f"final report: {r['summary']['packets']} packets, {r['summary']['connections']} connections, "
      f"{r['summary']['conversations']} conversations; kernel_dropped {l['kernel_dropped']}, "
      f"app_dropped {l['app_dropped']}, uncertain_connections {l['uncertain_connections']}, "
      f"outages {len(l['outages'])}, seccomp {l['privileges']['seccomp_syscalls']} calls, user {l['privileges']['user']}")
for d in l["drop_intervals"]:
    print(f"drops {d['start']} .. {d['end']}: kernel {d['kernel']}, interface {d['interface']}, app {d['app']}")
PY
