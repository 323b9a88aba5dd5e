#!/usr/bin/env bash
# Builds the libFuzzer target with clang (ASan + UBSan) and runs it for a
# bounded time, seeded with the conformance corpora's requests.
#   tests/fuzz/run.sh [SECONDS]   (default 60)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${1:-60}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
llhttp_src=/usr/share/llhttp
llhttp_inc=/usr/share/include/llhttp
mkdir -p "$work/corpus"
# seeds: every raw request of the shared conformance corpora
python3 - "$root/../shared/conformance" "$work/corpus" <<'PY'
import json, os, sys, glob, hashlib
src, dst = sys.argv[1], sys.argv[2]
for f in glob.glob(os.path.join(src, "*.jsonl")):
    for line in open(f):
        if not line.strip():
            continue
        raw = json.loads(line)["raw"]
        b = b"".join(bytes([ord(c)]) if ord(c) < 256 else c.encode() for c in raw)
        for knobs, split in ((1, 255), (3, 1), (12, 7)):
            data = bytes([knobs, split]) + b
            open(os.path.join(dst, hashlib.sha1(data).hexdigest()), "wb").write(data)
PY
flags="-g -O1 -std=c11 -D_GNU_SOURCE -DHTTPMODES_VERSION=\"fuzz\" -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
# the live view's page, embedded as the build does it
cmake -DIN="$root/common/live.html" -DOUT="$work/live_html.c" -DNAME=live_html -P "$root/cmake/embed.cmake"
clang $flags -DLLHTTP_STRICT_MODE=1 -w -I"$llhttp_inc" -I"$root/common" \
    "$here/fuzz_conn.c" "$root"/common/*.c "$work/live_html.c" "$llhttp_src"/*.c -lssl -lcrypto \
    -lpthread -o "$work/fuzz_conn"
"$work/fuzz_conn" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/" \
    "$work/corpus" >"$work/log" 2>&1 || { tail -n 60 "$work/log"; base64 -w0 "$work"/crash-* 2>/dev/null; echo; exit 1; }
tail -n 6 "$work/log"
echo "fuzz: no crash, leak or failed invariant in ${secs}s"
