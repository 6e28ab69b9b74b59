#!/usr/bin/env bash
# GPU check: run the whole probe suite on the CUDA GPU at hand in under a minute, write a
# measured profile, and print `moeprof validate` on it.
#
#   scripts/gpu_check.sh                 # writes $OUT (or /tmp)/gpu_check.profile.json
#   BUDGET_S=45 MODEL=scout scripts/gpu_check.sh
#   DEVICE=cpu QUICK=1 scripts/gpu_check.sh    # the same flow on a CPU (what the tests run)
#
# Installs nothing: it expects torch (a CUDA build) and nvidia-ml-py. If moeprof is not
# importable it is installed in place with `pip install -e . --no-deps`; if click is missing
# it uses the dependency-free entry points `python -m moeprof.probes` and `python -m moeprof.validation`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
if [[ "$PY" == */* ]]; then PY="$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")"; fi
cd "$ROOT"
BUDGET_S="${BUDGET_S:-38}"          # probe budget; torch import and CUDA start-up come on top
MODEL="${MODEL:-scout}"
DEVICE="${DEVICE:-cuda}"
QUICK_FLAG=()
if [[ "${QUICK:-0}" == 1 ]]; then QUICK_FLAG=(--quick); fi
OUT_DIR="${OUT:-${TMPDIR:-/tmp}}"
mkdir -p "$OUT_DIR"
PROFILE="$OUT_DIR/gpu_check.profile.json"
T0=$(date +%s)

say() { echo "== $*" >&2; }

# moeprof importable from outside the repo (an installed package, not the current folder)?
if ! (cd / && "$PY" -c "import moeprof" 2>/dev/null); then
    say "moeprof not importable: pip install -e . --no-deps"
    "$PY" -m pip install --no-deps --no-build-isolation -e . >&2 || say "editable install failed; running from the source tree"
fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"

DEVICE="$DEVICE" "$PY" - <<'EOF' >&2
import os
import torch
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, GPU: "
      f"{torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'none'}")
if os.environ["DEVICE"] == "cuda" and not torch.cuda.is_available():
    raise SystemExit("gpu_check: torch sees no CUDA GPU (DEVICE=cpu runs the same flow on the CPU)")
EOF

if "$PY" -c "import click, numpy" 2>/dev/null; then
    CLI=("$PY" -m moeprof)
    VALIDATE=("$PY" -m moeprof validate)
    "${CLI[@]}" telemetry || true
else
    say "click or numpy missing: using python -m moeprof.probes"
    CLI=("$PY" -m moeprof.probes)
    VALIDATE=("$PY" -m moeprof.validation)
fi

say "probe: ${CLI[*]} probe --device $DEVICE --model $MODEL --budget-s $BUDGET_S ${QUICK_FLAG[*]} --out $PROFILE"
timeout 170 "${CLI[@]}" probe --device "$DEVICE" --model "$MODEL" --budget-s "$BUDGET_S" "${QUICK_FLAG[@]}" --out "$PROFILE" \
    2> >(tee "$OUT_DIR/gpu_check.probe.log" >&2)
T1=$(date +%s)
say "probe wall time: $((T1 - T0)) s (budget ${BUDGET_S} s for the probes)"

say "validate (the model calibrated by this profile; rows held out)"
"${VALIDATE[@]}" --profile "$PROFILE" | tee "$OUT_DIR/gpu_check.validate.txt"
"${VALIDATE[@]}" --profile "$PROFILE" --json > "$OUT_DIR/gpu_check.validate.json"

say "validate against the shipped published profile for this GPU (uncalibrated planner), if any"
"${VALIDATE[@]}" --profile "$PROFILE" --calibration shipped 2>&1 | grep -E "^(rates|predicted by|summary|by probe|moeprof: error)" || true
say "done in $(( $(date +%s) - T0 )) s: $PROFILE"
