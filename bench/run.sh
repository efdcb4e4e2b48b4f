#!/bin/sh
# make bench: build the C side of bench/add.lua and run it against ./cffi.so.
#   sh bench/run.sh [REPS]          CALLGRIND=1 adds instructions per call
set -e
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
B="$HERE/build"
mkdir -p "$B"
CC=${CC:-cc}
LUA_INC=$(pkg-config --cflags lua5.4 2>/dev/null || echo -I/usr/include/lua5.4)
$CC -O2 -fPIC -shared -fvisibility=hidden -o "$B/libbench.so" "$HERE/benchlib.c"
$CC -O2 -fPIC -shared -fvisibility=hidden $LUA_INC -o "$B/handbind.so" \
    "$HERE/handbind.c" -L"$B" -lbench -Wl,-rpath,"$B"
cd "$ROOT"
BENCH_BUILD="$B" lua5.4 "$HERE/add.lua" "${1:-5}"
if [ "${CALLGRIND:-0}" = 1 ] && command -v valgrind >/dev/null; then
  echo
  echo "callgrind: instructions per call (difference of two loop lengths)"
  for c in ${CASES:-add add_d noop sum8 strlen}; do
    line="$c"
    for w in cffi hand; do
      for k in 1 2; do
        BENCH_BUILD="$B" BENCH_ONLY="$w:$c" BENCH_N=$((20000 * k)) \
          valgrind --tool=callgrind --callgrind-out-file="$B/cg.$k" \
          lua5.4 "$HERE/add.lua" >/dev/null 2>&1
        eval "ir$k=\$(callgrind_annotate \"$B/cg.$k\" 2>/dev/null | awk '/PROGRAM TOTALS/{gsub(\",\",\"\",\$1); print \$1+0; exit}')"
      done
      eval "ir_$w=\$(( (ir2 - ir1) / 20000 ))"
      line="$line $w=$(eval echo \$ir_$w)"
    done
    echo "$line ratio=$(awk -v a="$ir_cffi" -v b="$ir_hand" 'BEGIN{printf "%.2fx", a/b}')"
  done
  rm -f "$B"/cg.*
fi
