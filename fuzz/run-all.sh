#!/bin/sh
# Runs every fuzz target in turn (one at a time: the machine is shared).
# Usage: fuzz/run-all.sh SECONDS_PER_TARGET [TARGET...]
set -u
cd "$(dirname "$0")"
secs=${1:-300}; shift
targets=${*:-"capture_pcap capture_pcapng capture_compressed decode pipeline inventory catalog services baseline records"}
for t in $targets; do
    mkdir -p corpus/$t artifacts/$t
    echo "=== $t $(date -u +%FT%TZ)"
    RUSTC_BOOTSTRAP=1 cargo fuzz run -O $t corpus/$t -- \
        -max_total_time=$secs -rss_limit_mb=2048 -timeout=5 -max_len=262144 \
        -print_final_stats=1 > logs/$t.log 2>&1
    echo "=== $t exit $? $(date -u +%FT%TZ)"
    tail -n 25 logs/$t.log | grep -E "stat::|SUMMARY|Done|crash-|timeout-|oom-" 
done
