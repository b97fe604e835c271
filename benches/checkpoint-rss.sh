#!/usr/bin/env bash
# What a checkpoint costs in memory (not a CI test; needs root, tcpreplay and
# iproute2).
#
# Replays one capture with many conversations (flowlint-gen's
# high-cardinality mix) into a veth pair inside a private network namespace
# while `flowlint live --checkpoint EVERY --format json` captures, then lets
# the link idle until every connection is decided and a few more
# checkpoints have been written. VmRSS and VmHWM are sampled every 0.2 s;
# for each checkpoint (a new report file) the script prints the RSS half an
# interval before it, the peak while it was written, and the RSS half an
# interval after it.
#
#   sudo benches/checkpoint-rss.sh                     # the binary built here
#   sudo BIN=/path/to/flowlint GEN=/path/to/flowlint-gen benches/checkpoint-rss.sh
#   FLOWS=200000 CLIENTS=60000 PPS=20000 EVERY=10 RUN=70 ...
set -euo pipefail
cd "$(dirname "$0")/.."
FLOWS=${FLOWS:-200000}
CLIENTS=${CLIENTS:-60000}
PACKETS=${PACKETS:-400000}
PPS=${PPS:-20000}
EVERY=${EVERY:-10}
RUN=${RUN:-70}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target-live}
if [ -z "${BIN:-}" ]; then
  nice -n 19 cargo build --release --features live --bin flowlint --bin flowlint-gen >&2
  BIN=$CARGO_TARGET_DIR/release/flowlint
fi
GEN=${GEN:-$CARGO_TARGET_DIR/release/flowlint-gen}
WORK=$(mktemp -d)
chmod 755 "$WORK"
mkdir -m 1777 "$WORK/out"
NS=flowlint-ckpt-$$
cleanup() {
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"$GEN" bench --packets "$PACKETS" --flows "$FLOWS" --clients "$CLIENTS" --mix high-cardinality \
  --seed 7 --format pcap --out "$WORK/c.pcap" >&2
ip netns add "$NS"
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip -n "$NS" link add v0 type veth peer name v1
ip -n "$NS" link set v0 up
ip -n "$NS" link set v1 up

ip netns exec "$NS" "$BIN" live -i v1 --format json -o "$WORK/out/r.json" --checkpoint "$EVERY" \
  --buffer-mb 256 --duration "$RUN" --quiet 2>"$WORK/live.err" &
LIVE_PID=$!
sleep 1
ip netns exec "$NS" tcpreplay -q --pps "$PPS" -i v0 "$WORK/c.pcap" >/dev/null 2>&1 &

samples="$WORK/samples"
start=$(date +%s.%N)
while kill -0 "$LIVE_PID" 2>/dev/null; do
  st=$(awk '/VmRSS/ {r = $2} /VmHWM/ {h = $2} END {print r, h}' "/proc/$LIVE_PID/status" 2>/dev/null || true)
  [ -n "$st" ] && echo "$(echo "$(date +%s.%N) - $start" | bc) $st $(stat -c %Z "$WORK/out/r.json" 2>/dev/null || echo 0) $(stat -c %s "$WORK/out/r.json" 2>/dev/null || echo 0)" >>"$samples"
  sleep 0.2
done
wait "$LIVE_PID" || true
python3 - "$samples" "$WORK/out/r.json" "$EVERY" <<'PY'
import json, sys
rows = [l.split() for l in open(sys.argv[1]) if len(l.split()) == 5]
rows = [(float(t), int(r), int(h), int(c), int(s)) for t, r, h, c, s in rows]
half = float(sys.argv[3]) / 2
# A checkpoint shows as a new report file (its ctime changes); "between" is
# the RSS half an interval before it (the engine running, no report being
# written), "peak" the highest RSS sampled from then until the file is
# there, "after" the RSS half an interval later.
def at(t):
    return min(rows, key=lambda r: abs(r[0] - t))[1]
print(f"{'t_s':>6} {'rss_between_kb':>15} {'rss_peak_kb':>12} {'rss_after_kb':>13} {'peak-between':>13} {'report_kb':>10}")
for i in range(1, len(rows)):
    if rows[i][3] != rows[i - 1][3]:
        t = rows[i][0]
        between = at(t - half)
        peak = max(r[1] for r in rows if t - half <= r[0] <= t)
        after = at(t + half)
        print(f"{t:6.1f} {between:15} {peak:12} {after:13} {peak - between:+13} {rows[i][4] // 1024:10}")
r = json.load(open(sys.argv[2]))
l = r["live"]
print(f"final: {r['summary']['conversations']} conversations, {r['summary']['connections']} connections; "
      f"peak RSS (VmHWM) {rows[-1][2]} kB; dropped: kernel {l['kernel_dropped']}, app {l['app_dropped']}")
PY
