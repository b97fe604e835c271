#!/usr/bin/env bash
# flowlint on Zeek conn.log records at the scale of a cluster.
#
#   benches/records.sh                    # 10 M records in 8 gzip'ed files
#   RECORDS=200000 FILES=2 benches/records.sh   # a quick run
#
# Generates (deterministically) RECORDS conn.log records (TSV, Zeek's 22
# standard columns) in FILES files conn.N.log.gz, as a cluster's workers
# and rotated hours would leave them, from a site of HOSTS hosts: each a
# JP1 agent of its manager (31000/tcp) and a Systemwalker client of its
# server (9690/tcp) (mostly SF, some S0 and REJ), DNS over UDP, and a
# share of unrelated traffic to a few web servers each (so conversations
# follow the hosts, as at a site, not the records); 0.1 % of the
# records repeat the uid of one of the last 50 000 (an overlapping
# rotation: flowlint remembers uids for an hour of record time). Then runs
# `flowlint check -q --format json` on all the files once (RUNS times),
# and prints wall time, records/s and peak RSS (/usr/bin/time -v), with
# FLOWLINT_TIMING's split of the time: the record stage (decompress,
# parse, decide: records/s read) apart from classification and report.
# Also the time of decompression alone (gzip -dc), for comparison.
#
# Environment: RECORDS (10000000), FILES (8), HOSTS (50000), SEED (1), RUNS (1), DATA
# (target/bench-data/records), BIN (the flowlint binary; default: a
# release build in CARGO_TARGET_DIR or target). Nothing it writes is meant
# to be committed.
set -euo pipefail

cd "$(dirname "$0")/.."
RECORDS=${RECORDS:-10000000}
FILES=${FILES:-8}
SEED=${SEED:-1}
HOSTS=${HOSTS:-50000}
RUNS=${RUNS:-1}
target=${CARGO_TARGET_DIR:-target}
DATA=${DATA:-$target/bench-data/records}
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet --bin flowlint
  BIN=$target/release/flowlint
fi
dir="$DATA/$RECORDS-$FILES-$HOSTS-$SEED"
mkdir -p "$dir"

if [ ! -f "$dir/done" ]; then
  echo "== generating $RECORDS records in $FILES files ($dir)"
  rm -f "$dir"/conn.*.log.gz
  python3 - "$RECORDS" "$FILES" "$SEED" "$dir" "$HOSTS" <<'PY'
import gzip, random, sys
records, files, seed, out, hosts = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
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
            u = uid - 1 - rnd.randrange(min(uid, 50000)) if repeat else uid
            if not repeat:
                uid += 1
            c = rnd.randrange(hosts)
            client = f"10.{c // 65536}.{c // 256 % 256}.{c % 256}"
            sport = rnd.randrange(49152, 65535)
            if r < 0.6:
                server, dport, proto = f"10.200.0.{c % 39 + 1}", 31000, "tcp"
            elif r < 0.75:
                server, dport, proto = f"10.201.0.{c % 19 + 1}", 9690, "tcp"
            elif r < 0.9:
                server, dport, proto = "10.250.0.53", 53, "udp"
            else:
                ws = (c * 7 + rnd.randrange(4)) % 2000
                server, dport, proto = f"172.16.{ws // 250}.{ws % 250 + 1}", rnd.choice([443, 80, 8080, 3389]), "tcp"
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
start=$(date +%s.%N)
for f in "$dir"/conn.*.log.gz; do gzip -dc "$f"; done > /dev/null
end=$(date +%s.%N)
printf 'gzip -dc alone: %.2f s, %.0f records/s\n' "$(echo "$end - $start" | bc -l)" \
  "$(echo "$RECORDS / ($end - $start)" | bc -l)"
for run in $(seq "$RUNS"); do
  start=$(date +%s.%N)
  FLOWLINT_TIMING=1 /usr/bin/time -v "$BIN" check -q --format json -o "$dir/report.json" --fail-on none \
    "$dir"/conn.*.log.gz 2> "$dir/time.txt" || true
  end=$(date +%s.%N)
  wall=$(echo "$end - $start" | bc -l)
  rss=$(grep "Maximum resident" "$dir/time.txt" | awk '{print $NF}')
  grep "flowlint: timing" "$dir/time.txt" || true
  stage=$(sed -n 's/.*packet stage \([0-9.]*\) s.*/\1/p' "$dir/time.txt")
  if [ -n "$stage" ]; then
    printf 'record stage (read, parse, decide): %.2f s, %.0f records/s\n' "$stage" \
      "$(echo "$RECORDS / $stage" | bc -l)"
  fi
  printf 'run %d: %.2f s, %.0f records/s, peak RSS %d MB\n' "$run" "$wall" \
    "$(echo "$RECORDS / $wall" | bc -l)" "$(( rss / 1024 ))"
done
