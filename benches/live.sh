#!/usr/bin/env bash
# Throughput and memory of `flowlint live` (not a test; needs root, tcpreplay,
# tcpdump, iproute2 and GNU time).
#
# Replays the 1 M-packet benchmark capture at tcpreplay's top speed into a
# veth pair inside a private network namespace, once with `tcpdump -w
# /dev/null` listening and once with `flowlint live`, and prints packets/s,
# kernel and application drops, CPU and peak RSS. Then replays it 10 times in
# a row into one `flowlint live` and compares the RSS after the first and
# after the last replay (target: within 10 %).
#
#   sudo benches/live.sh            # PACKETS=1000000 FLOWS=20000 by default
set -euo pipefail
cd "$(dirname "$0")/.."
PACKETS=${PACKETS:-1000000}
FLOWS=${FLOWS:-20000}
REPEAT=${REPEAT:-10}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target-live}
cargo build --release --features live --bin flowlint --bin flowlint-gen >&2
BIN=$CARGO_TARGET_DIR/release/flowlint
GEN=$CARGO_TARGET_DIR/release/flowlint-gen
WORK=$(mktemp -d)
NS=flowlint-bench-$$
cleanup() { ip netns del "$NS" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

CAP=$WORK/bench.pcap
"$GEN" bench --packets "$PACKETS" --flows "$FLOWS" --seed 1 --format pcap --out "$CAP" >&2
ip netns add "$NS"
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip -n "$NS" link add v0 type veth peer name v1
ip -n "$NS" link set v0 up
ip -n "$NS" link set v1 up
in_ns() { ip netns exec "$NS" "$@"; }

replay() { in_ns tcpreplay -q --topspeed -i v0 "$CAP" 2>&1 | grep -E 'Actual|Rated' >&2; }

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

echo "== tcpdump -i v1 -w /dev/null"
in_ns /usr/bin/time -v tcpdump -q -i v1 -B 65536 -w /dev/null 2>"$WORK/tcpdump.err" &
sleep 2
t0=$(date +%s.%N); replay; t1=$(date +%s.%N)
sleep 1
in_ns pkill -INT -x tcpdump || true   # the only tcpdump in this private namespace
wait || true
grep -E 'packets (captured|received by filter|dropped by kernel)' "$WORK/tcpdump.err"
grep -E 'Percent of CPU|Maximum resident' "$WORK/tcpdump.err"
echo "replay: $(echo "$PACKETS / ($t1 - $t0)" | bc) packets/s (wall, incl. tcpreplay start)"

echo "== flowlint live -i v1 (x1)"
in_ns /usr/bin/time -v "$BIN" live -i v1 --format json -o "$WORK/live1.json" -q --buffer-mb 64 \
  2>"$WORK/live1.err" &
sleep 2
LIVE_PID=$(in_ns pgrep -n -x flowlint)
t0=$(date +%s.%N); replay; t1=$(date +%s.%N)
sleep 2
kill -INT "$LIVE_PID"; wait || true
python3 - "$WORK/live1.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
l = r["live"]
print(f"captured {r['summary']['packets']} packets, {r['summary']['connections']} connections; "
      f"kernel_received {l['kernel_received']}, kernel_dropped {l['kernel_dropped']}, "
      f"interface_dropped {l['interface_dropped']}, app_dropped {l['app_dropped']}")
PY
grep -E 'Percent of CPU|Maximum resident' "$WORK/live1.err"
echo "replay: $(echo "$PACKETS / ($t1 - $t0)" | bc) packets/s"

echo "== flowlint live -i v1 (x$REPEAT): RSS after the first and the last replay"
in_ns "$BIN" live -i v1 --format json -o "$WORK/liveN.json" -q 2>"$WORK/liveN.err" &
sleep 2
LIVE_PID=$(in_ns pgrep -n -x flowlint)
first=""
for i in $(seq 1 "$REPEAT"); do
  replay
  sleep 3   # let the closed connections linger out and be evicted
  r=$(rss_kb "$LIVE_PID")
  echo "after replay $i: RSS ${r} kB"
  [ -z "$first" ] && first=$r
done
last=$r
kill -INT "$LIVE_PID"; wait || true
python3 - "$WORK/liveN.json" "$first" "$last" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); l = r["live"]
first, last = int(sys.argv[2]), int(sys.argv[3])
print(f"packets {r['summary']['packets']}, kernel_dropped {l['kernel_dropped']}, app_dropped {l['app_dropped']}")
print(f"RSS first {first} kB, last {last} kB: {100.0 * (last - first) / first:+.1f} %")
PY
