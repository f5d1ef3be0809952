#!/usr/bin/env bash
# Checks the release build's AVX2 scoring kernel (PrescoreScoringAVX2, see AVX2Scorer.swift):
#
# 1. Isolation: no function that other modules may also define under the same name holds an AVX
#    instruction. Such functions (outlined copies, specializations of standard-library generics,
#    runtime helpers) are weak symbols, and a static link keeps one copy of each for the whole
#    executable: were the AVX2 copy kept, baseline code on a CPU without AVX2 would call it and die
#    (SIGILL). Functions whose names carry the module's own name (…ScoringAVX2…) are its own, reached
#    only through AVX2Scorer, which runs only on CPUs with AVX2.
# 2. Parity: `prescore model predict` writes the same bytes with either kernel on every model and
#    input the tests hold (skipped on a CPU without AVX2).
#
# Usage: scripts/check-avx2-kernel.sh   (after `swift build -c release --product prescore`)
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
checked=0
for object in .build/release/PrescoreScoringAVX2.build/*.o; do
    shared=$(readelf -sW "$object" | awk '$4 == "FUNC" && $5 == "WEAK" && $7 != "UND" { print $8 }' |
        grep -v 'ScoringAVX2' || true)
    for symbol in $shared; do
        checked=$((checked + 1))
        # AVX instructions are VEX-encoded: their mnemonics start with v (vmovups, vpcmpgtb, …).
        avx=$(objdump -d --no-show-raw-insn --disassemble="$symbol" "$object" |
            awk -F'\t' 'NF >= 2 && $2 ~ /^v[a-z0-9]+/ { print $2 }' | head -3 | tr '\n' ';')
        if [ -n "$avx" ]; then
            echo "error: $object: shared function $symbol holds AVX instructions: $avx" >&2
            status=1
        fi
    done
done
[ "$checked" -gt 0 ] || { echo "error: no release objects of PrescoreScoringAVX2 (build first)" >&2; exit 1; }
[ "$status" = 0 ] || exit 1
echo "avx2 kernel: $checked functions shared with other modules, none with an AVX instruction"

if ! grep -qw avx2 /proc/cpuinfo; then
    echo "avx2 kernel: this CPU has no AVX2, parity not checked"
    exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fixtures=Tests/PrescoreCoreTests/Fixtures
pairs="jobs/models/fraud_risk.json:$fixtures/fraud_risk_parity_input.csv"
for model in "$fixtures"/xgboost-versions/*.json; do pairs="$pairs $model:$fixtures/xgboost-versions/input.csv"; done
for pair in $pairs; do
    model=${pair%%:*}
    input=${pair#*:}
    for kernel in baseline avx2; do
        PRESCORE_SCORING_KERNEL=$kernel .build/release/prescore model predict --model "$model" \
            --input "$input" --output "$work/$kernel.csv"
    done
    cmp -s "$work/baseline.csv" "$work/avx2.csv" || {
        echo "error: $model: the avx2 kernel's scores differ from the baseline's" >&2
        diff "$work/baseline.csv" "$work/avx2.csv" | head -5 >&2
        exit 1
    }
    echo "avx2 kernel: $(basename "$model"): $(($(wc -l <"$input") - 1)) rows, bit-identical to baseline"
done
