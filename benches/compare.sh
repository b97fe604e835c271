#!/usr/bin/env bash
# flowlint side by side with its peers on generated captures.
#
#   benches/compare.sh            # 10 M packets (4.5 GB; 5.0 GB high-cardinality), 1 M for the slow peers
#   PACKETS=2000000 benches/compare.sh   # a quicker run
#   MIX=high-cardinality benches/compare.sh   # one mix only
#
# For each traffic mix of MIX (flowlint-gen bench --mix): `default`, the
# original enterprise mix (4 000 clients, 40 servers; conversations saturate:
# 74 701 conversations, 789 831 connections in 10 M packets), and
# `high-cardinality`, a larger site's SPAN port (8 000 clients, 400 servers,
# 20 % non-catalog, 10 % IPv6, 5 % VLAN: 354 755 conversations, 639 049
# connections in 10 M packets). Both with FLOWS=20000, SEED=1, counted with
# --max-conversations 5000000.
#
# Generates (deterministically, with flowlint-gen) a PACKETS-packet classic
# pcap, one of PACKETS/10 packets for the slow peers (tshark, ndpiReader),
# and one twice as long with the same concurrent flows (memory comparison);
# then times, page cache warm, median of RUNS runs with hyperfine:
#   flowlint check (JSON report to a file, -q), default threads and -j 1,
#   the analysis stage alone (cargo bench --bench pipeline),
#   tcpdump -nn -r F -w /dev/null, cat F > /dev/null,
#   tshark -r F -q -z conv,tcp and ndpiReader (small file, if installable),
# measures peak RSS with /usr/bin/time -v, and prints, per mix, one table of
# wall time, packets/s, MB/s, peak RSS and each tool's time relative to
# flowlint's, then the targets (ratios to tcpdump, cat, tshark, -j 1; RSS).
#
# Environment: PACKETS (10000000), FLOWS (concurrent flows, 20000), SEED (1),
# RUNS (3), MIX (mixes to run, space separated: "default high-cardinality"),
# CHECK_ARGS (extra arguments of every flowlint check run, none: the
# high-cardinality mix then goes past the default --max-conversations
# 250000 and folds; CHECK_ARGS="--max-conversations 5000000" does not),
# DATA (directory for the captures, target/bench-data; the default mix's
# files are bench-N.pcap as before, the others bench-MIX-N.pcap),
# CARGO_TARGET_DIR (as cargo). Nothing it writes is meant to be committed.
set -euo pipefail

cd "$(dirname "$0")/.."
PACKETS=${PACKETS:-10000000}
FLOWS=${FLOWS:-20000}
SEED=${SEED:-1}
RUNS=${RUNS:-3}
MIX=${MIX:-default high-cardinality}
CHECK_ARGS=${CHECK_ARGS:-}
TARGET=${CARGO_TARGET_DIR:-target}
DATA=${DATA:-$TARGET/bench-data}
SMALL=$((PACKETS / 10))
LONG=$((PACKETS * 2))
mkdir -p "$DATA"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# --- tools -------------------------------------------------------------------
SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO="sudo"
APT_UPDATED=0
apt_install() { # package...
    command -v apt-get >/dev/null || return 1
    if [ $APT_UPDATED -eq 0 ]; then
        $SUDO apt-get update -qq >/dev/null 2>&1 || true
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null 2>&1
}
need() { # command package
    command -v "$1" >/dev/null 2>&1 || apt_install "$2" || {
        echo "compare.sh: $1 is missing and apt-get could not install $2" >&2
        exit 2
    }
}
need hyperfine hyperfine
need tcpdump tcpdump
need tshark tshark
[ -x /usr/bin/time ] || apt_install time || { echo "compare.sh: /usr/bin/time missing" >&2; exit 2; }
need cargo cargo
# ndpiReader: Debian/Ubuntu ship it in libndpi-bin (elsewhere ndpi-tools or
# ndpi); skipped when none of them exists.
NDPI=""
if ! command -v ndpiReader >/dev/null 2>&1; then
    for pkg in libndpi-bin ndpi-tools ndpi; do
        apt_install "$pkg" && break
    done
fi
command -v ndpiReader >/dev/null 2>&1 && NDPI=$(command -v ndpiReader)
[ -z "$NDPI" ] && echo "compare.sh: ndpiReader not available (no libndpi-bin/ndpi-tools/ndpi package): skipped" >&2

# --- build and captures ------------------------------------------------------
cargo build --release --quiet --bins
cargo bench --no-run --quiet --bench pipeline 2>/dev/null
FLOWLINT=$TARGET/release/flowlint
GEN=$TARGET/release/flowlint-gen
PIPELINE=$(ls -t "$TARGET"/release/deps/pipeline-* 2>/dev/null | grep -v '\.d$' | head -1 || true)

size() { stat -c %s "$1"; }

# --- one table per mix --------------------------------------------------------
for mix in $MIX; do
case $mix in
default) NAME=bench ;;
high-cardinality) NAME=bench-$mix ;;
*) echo "compare.sh: MIX: default or high-cardinality, not $mix" >&2; exit 2 ;;
esac
gen() { # packets file
    [ -s "$2" ] || "$GEN" bench --mix "$mix" --packets "$1" --flows "$FLOWS" --seed "$SEED" --format pcap --out "$2"
}
BIG=$DATA/$NAME-$PACKETS.pcap
SMALLF=$DATA/$NAME-$SMALL.pcap
LONGF=$DATA/$NAME-$LONG.pcap
gen "$PACKETS" "$BIG"
gen "$SMALL" "$SMALLF"
gen "$LONG" "$LONGF"

# --- measurements ------------------------------------------------------------
# name | packets | bytes | command
ROWS=()
row() { ROWS+=("$1|$2|$3|$4"); }
row "flowlint check" "$PACKETS" "$(size "$BIG")" "$FLOWLINT check -q --format json $CHECK_ARGS -o $OUT/report.json $BIG"
row "flowlint check -j 1" "$PACKETS" "$(size "$BIG")" "$FLOWLINT check -q --format json -j 1 $CHECK_ARGS -o $OUT/report1.json $BIG"
[ -n "$PIPELINE" ] && row "flowlint analysis stage only" "$PACKETS" "$(size "$BIG")" "$PIPELINE $BIG 0"
[ -n "$PIPELINE" ] && row "flowlint analysis stage -j 1" "$PACKETS" "$(size "$BIG")" "$PIPELINE $BIG 1"
row "flowlint check, 2x longer" "$LONG" "$(size "$LONGF")" "$FLOWLINT check -q --format json $CHECK_ARGS -o $OUT/report2.json $LONGF"
row "tcpdump -w /dev/null" "$PACKETS" "$(size "$BIG")" "tcpdump -nn -r $BIG -w /dev/null"
row "cat > /dev/null" "$PACKETS" "$(size "$BIG")" "cat $BIG"
row "tshark conv,tcp (1/10 file)" "$SMALL" "$(size "$SMALLF")" "tshark -r $SMALLF -q -z conv,tcp"
[ -n "$NDPI" ] && row "ndpiReader (1/10 file)" "$SMALL" "$(size "$SMALLF")" "$NDPI -i $SMALLF -q"

RESULTS=()
for r in "${ROWS[@]}"; do
    IFS='|' read -r name packets bytes cmd <<<"$r"
    echo "== $mix: $name: $cmd" >&2
    # Exit status 1 (findings) is not a failure of the run: -i.
    # A plain command name keeps the CSV's first column free of commas
    # (`conv,tcp`).
    hyperfine -N -i --style none --warmup 1 --runs "$RUNS" --output null \
        -n run --export-csv "$OUT/h.csv" "$cmd" >/dev/null 2>&1 ||
        hyperfine -i --style none --warmup 1 --runs "$RUNS" --output null \
            -n run --export-csv "$OUT/h.csv" "$cmd" >/dev/null
    median=$(awk -F, 'NR==2 {print $4}' "$OUT/h.csv")
    /usr/bin/time -v -o "$OUT/time.txt" sh -c "$cmd >/dev/null 2>&1" || true
    rss=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$OUT/time.txt")
    RESULTS+=("$name|$packets|$bytes|$median|$rss")
done

# --- table -------------------------------------------------------------------
FL=$(printf '%s\n' "${RESULTS[@]}" | awk -F'|' '$1=="flowlint check" {print $4}')
FL1=$(printf '%s\n' "${RESULTS[@]}" | awk -F'|' '$1=="flowlint check -j 1" {print $4}')
echo
echo "Mix $mix. Captures: $BIG ($PACKETS packets), $SMALLF, $LONGF; $FLOWS concurrent flows; median of $RUNS, page cache warm; $(nproc) cores"
pick() { printf '%s\n' "${RESULTS[@]}" | awk -F'|' -v n="$1" -v f="$2" '$1==n {print $f}'; }
TCPDUMP=$(pick "tcpdump -w /dev/null" 4)
CAT=$(pick "cat > /dev/null" 4)
printf '%s\n' "${RESULTS[@]}" | awk -F'|' -v fl="$FL" -v td="$TCPDUMP" -v cat="$CAT" -v p="$PACKETS" '
BEGIN {
    printf "%-32s %10s %9s %13s %9s %9s %11s %9s\n", "tool", "packets", "wall s", "packets/s", "MB/s", "RSS MB", "x tcpdump", "x cat"
}
{
    pps = $2 / $4; mbs = $3 / $4 / 1e6
    # Ratios of time per packet, so runs on the smaller file compare fairly.
    rt = (td > 0) ? ($4 / $2) / (td / p) : 0
    rc = (cat > 0) ? ($4 / $2) / (cat / p) : 0
    printf "%-32s %10d %9.3f %13.0f %9.0f %9.1f %10.2fx %8.2fx\n", $1, $2, $4, pps, mbs, $5 / 1024, rt, rc
}'
# What the report of the first row counted (a check of the mix's shape).
python3 - "$OUT/report.json" <<'PY' 2>/dev/null || true
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
print("report: %d conversations, %d connections, %d folded connections"
      % (s["conversations"], s["connections"], s.get("folded_connections", 0)))
PY
# Where the time of one check goes (FLOWLINT_TIMING: stage times, memory
# and CPU time at each stage's end), with the default threads and -j 1.
for j in "" "-j 1"; do
    echo "stages ${j:-default threads}: $(FLOWLINT_TIMING=1 $FLOWLINT check -q --format json $j $CHECK_ARGS -o $OUT/report-t.json $BIG 2>&1 | grep 'timing:' | sed 's/^flowlint: timing: //')"
done
echo
TSHARK=$(pick "tshark conv,tcp (1/10 file)" 4)
RSS=$(pick "flowlint check" 5)
RSS2=$(pick "flowlint check, 2x longer" 5)
awk -v fl="$FL" -v fl1="$FL1" -v td="$TCPDUMP" -v cat="$CAT" -v ts="$TSHARK" -v p="$PACKETS" -v s="$SMALL" \
    -v rss="$RSS" -v rss2="$RSS2" 'BEGIN {
    printf "target  flowlint <= 0.8 x tcpdump:        %.2f x  %s\n", fl / td, (fl <= 0.8 * td) ? "met" : "NOT met"
    printf "target  flowlint <= 2 x cat:              %.2f x  %s\n", fl / cat, (fl <= 2 * cat) ? "met" : "NOT met"
    r = (p / fl) / (s / ts)
    printf "target  packets/s >= 100 x tshark:        %.2f x  %s\n", r, (r >= 100) ? "met" : "NOT met"
    printf "target  default threads >= 1.6 x -j 1:   %.2f x  %s\n", fl1 / fl, (fl1 / fl >= 1.6) ? "met" : "NOT met"
    printf "target  peak RSS <= 150 MB:               %.0f MB  %s\n", rss / 1024, (rss <= 150 * 1024) ? "met" : "NOT met"
    d = rss2 / rss - 1
    printf "target  RSS 2x capture within 10 %%:       %+.0f %%  %s\n", d * 100, (d <= 0.1 && d >= -0.1) ? "met" : "NOT met"
}'
done
