#!/usr/bin/env bash
# Regenerates docs/demo-report.png: the demo's HTML report as Debian's
# chromium shows it (through tests/browser/check-report.js, which also
# checks the page). Needs chromium, node and `npm ci` in tests/browser.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cargo build --release --quiet
bin=target/release/flowlint
[ -n "${CARGO_TARGET_DIR:-}" ] && bin="$CARGO_TARGET_DIR/release/flowlint"
args=(check -q --inventory fixtures/demo/lab.toml fixtures/demo/lab.pcapng)
"$bin" "${args[@]}" -o "$tmp/demo.html" || [ $? -eq 1 ]
"$bin" "${args[@]}" -o "$tmp/demo.json" || [ $? -eq 1 ]
cat > "$tmp/cases.json" <<JSON
[{"name": "demo", "html": "$tmp/demo.html", "json": "$tmp/demo.json",
  "screenshot": "$PWD/docs/demo-report.png"}]
JSON
(cd tests/browser && node check-report.js "$tmp/cases.json")
echo "wrote docs/demo-report.png"
