#!/usr/bin/env bash
# Demo wall time: cold (empty model cache: trains tokenizer, base and gold) and warm (cached).
# Targets (issue #2, 2-core CPU): cold ≤ 300 s, warm ≤ 60 s.
set -euo pipefail
cache=$(mktemp -d)
out=$(mktemp -d)
export OBLIVIO_CACHE=$cache
t0=$(date +%s.%N); oblivio demo --quiet --out "$out/cold" >/dev/null; t1=$(date +%s.%N)
oblivio demo --quiet --out "$out/warm" >/dev/null; t2=$(date +%s.%N)
python3 - "$t0" "$t1" "$t2" "$out" <<'PY'
import json, sys
t0, t1, t2, out = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
print(f"cold demo: {t1 - t0:.1f} s (target ≤ 300)")
print(f"warm demo: {t2 - t1:.1f} s (target ≤ 60)")
warm = json.load(open(f"{out}/warm/results.json"))
print("warm run timings:", warm["timings"])
# the cold run stored the base and gold evaluations (eval/cache.py): the warm run loads them
print("warm run reference evaluations:", warm.get("reference_cache"))
PY
rm -rf "$cache" "$out"
