#!/usr/bin/env bash
# flowlint on Zeek conn.log records at the scale of a cluster.
#
#   benches/records.sh                    # 10 M records in 8 gzip'ed files
#   RECORDS=200000 FILES=2 benches/records.sh   # a quick run
#
# Generates (deterministically) RECORDS conn.log records (TSV, Zeek's 22
# standard columns) in FILES files conn.N.log.gz, as a cluster's workers
# and rotated hours would leave them: JP1 agents to their managers on
# 31000/tcp and Systemwalker clients on 9690/tcp (mostly SF, some S0 and
# REJ), DNS over UDP, and a share of unrelated traffic; 0.1 % of the
# records repeat an earlier uid (an overlapping rotation). Then runs
# `flowlint check -q --format json` on all the files once (RUNS times),
# and prints wall time, records/s and peak RSS (/usr/bin/time -v), with
# FLOWLINT_TIMING's split of the time.
#
# Environment: RECORDS (10000000), FILES (8), SEED (1), RUNS (1), DATA
# (target/bench-data/records), BIN (the flowlint binary; default: a
# release build in CARGO_TARGET_DIR or target). Nothing it writes is meant
# to be committed.
set -euo pipefail

cd "$(dirname "$0")/.."
RECORDS=${RECORDS:-10000000}
FILES=${FILES:-8}
SEED=${SEED:-1}
RUNS=${RUNS:-1}
target=${CARGO_TARGET_DIR:-target}
DATA=${DATA:-$target/bench-data/records}
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet --bin flowlint
  BIN=$target/release/flowlint
fi
mkdir -p "$DATA/$RECORDS"
dir="$DATA/$RECORDS"

if [ ! -f "$dir/done" ]; then
  echo "== generating $RECORDS records in $FILES files ($dir)"
  rm -f "$dir"/conn.*.log.gz
  python3 - "$RECORDS" "$FILES" "$SEED" "$dir" <<'PY'
import gzip, random, sys
records, files, seed, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rnd = random.Random(seed)
head = (
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
    "#open\t2026-11-20-10-00-00\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\t"
    "orig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\t"
    "orig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\tip_proto\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\t"
    "bool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\tcount\n"
)
per = records // files
ts = 1795168800.0
uid = 0
for f in range(files):
    n = per if f < files - 1 else records - per * (files - 1)
    with gzip.open(f"{out}/conn.{f}.log.gz", "wt", compresslevel=1) as w:
        w.write(head)
        lines = []
        for _ in range(n):
            ts += 0.0005
            r = rnd.random()
            repeat = uid > 0 and rnd.random() < 0.001
            u = rnd.randrange(uid) if repeat else uid
            if not repeat:
                uid += 1
            client = f"10.{rnd.randrange(64)}.{rnd.randrange(256)}.{rnd.randrange(1, 255)}"
            sport = rnd.randrange(49152, 65535)
            if r < 0.6:
                server, dport, proto = f"10.200.0.{rnd.randrange(1, 40)}", 31000, "tcp"
            elif r < 0.75:
                server, dport, proto = f"10.201.0.{rnd.randrange(1, 20)}", 9690, "tcp"
            elif r < 0.9:
                server, dport, proto = "10.250.0.53", 53, "udp"
            else:
                server, dport, proto = f"172.16.{rnd.randrange(256)}.{rnd.randrange(1, 255)}", rnd.choice([443, 80, 8080, 3389]), "tcp"
            s = rnd.random()
            if proto == "udp":
                state, hist, op, rp = "SF", "Dd", 1, 1
            elif s < 0.9:
                state, hist, op, rp = "SF", "ShADadFf", 8, 7
            elif s < 0.96:
                state, hist, op, rp = "S0", "S", 3, 0
            else:
                state, hist, op, rp = "REJ", "Sr", 1, 1
            lines.append(
                f"{ts:.6f}\tC{u:017x}\t{client}\t{sport}\t{server}\t{dport}\t{proto}\t-\t0.120000\t"
                f"{op * 40}\t{rp * 40}\t{state}\tT\tT\t0\t{hist}\t{op}\t{op * 60}\t{rp}\t{rp * 60}\t-\t6\n"
            )
            if len(lines) >= 10000:
                w.write("".join(lines))
                lines.clear()
        w.write("".join(lines))
        w.write("#close\t2026-11-20-11-00-00\n")
PY
  touch "$dir/done"
fi
size=$(du -cb "$dir"/conn.*.log.gz | tail -1 | cut -f1)
echo "== $RECORDS records, $(( size / 1000000 )) MB gzip'ed, $BIN"
for run in $(seq "$RUNS"); do
  start=$(date +%s.%N)
  FLOWLINT_TIMING=1 /usr/bin/time -v "$BIN" check -q --format json -o "$dir/report.json" --fail-on none \
    "$dir"/conn.*.log.gz 2> "$dir/time.txt" || true
  end=$(date +%s.%N)
  wall=$(echo "$end - $start" | bc -l)
  rss=$(grep "Maximum resident" "$dir/time.txt" | awk '{print $NF}')
  grep "flowlint: timing" "$dir/time.txt" || true
  printf 'run %d: %.2f s, %.0f records/s, peak RSS %d MB\n' "$run" "$wall" \
    "$(echo "$RECORDS / $wall" | bc -l)" "$(( rss / 1024 ))"
done
