#!/usr/bin/env bash
# Train the motion tokenizer from scratch on a GPU within a time budget, on a machine that has this repository and a
# motion pack but not the dataset, pybullet or the BVH files:
#
#   motiongpt data pack-motions --bandai <Bandai-Namco-Research-Motiondataset> --out data/motions.npz  # once, anywhere
#   bash scripts/train_tokenizer_gpu.sh data/motions.npz 420         # on the GPU machine: 420 s of training
#
# Builds the dataset from the pack into $DATA (default data/embedded; skipped when $DATA/dataset.json exists), runs
# PROBE_STEPS steps to measure the step rate, then trains $CONFIG (default models/configs/tokenizer_small_gpu.yaml)
# for rate x budget x 0.9 steps (passed with --max-steps, recorded in the run's config), bounded by `timeout`, and
# evaluates the result on val and test (`motiongpt eval tokenizer`, whole clips). Results in $RUN (default
# runs/tokenizer-small-gpu): export/ is the tokenizer folder, eval_val.json and eval_test.json its metrics. With $OUT
# set (a folder), they are also packed into $OUT/tokenizer-small-gpu.tar.gz (one file of about 5 MB).
# The language model is trained on a tokenizer's codes, so a new tokenizer needs the language model retrained:
#   motiongpt train lm-data --config models/configs/lm_small_gpu_pretrain.yaml --out data/lm_train.npz \
#       --vectors-from OLD_lm_train.npz   # with the config's motion_tokenizer set to the new folder
#   bash scripts/train_lm_gpu.sh 360 small
# PYTHON selects the interpreter (default python3); MOTIONGPT_DEVICE the device (default auto: CUDA if any).
set -euo pipefail
pack=${1:?motion pack (motiongpt data pack-motions)}
budget=${2:?seconds of training}
python=${PYTHON:-python3}
device=${MOTIONGPT_DEVICE:-auto}
config=${CONFIG:-models/configs/tokenizer_small_gpu.yaml}
data=${DATA:-data/embedded}
run=${RUN:-runs/tokenizer-small-gpu}
probe_steps=${PROBE_STEPS:-200}  # four metrics rows (log_every 50) give the rate after the first CUDA steps
started=$(date +%s)
motiongpt() { "$python" -m motiongpt.cli "$@"; }

if [ ! -f "$data/dataset.json" ]; then
    motiongpt data build-embedded --out "$data" --pack "$pack" | tail -n 4
fi
echo "dataset ready after $(( $(date +%s) - started )) s"

rm -rf "$run-probe"
probe_started=$(date +%s)
motiongpt train tokenizer --config "$config" --data "$data" --output-dir "$run-probe" --export "$run-probe/export" \
    --max-steps "$probe_steps" --device "$device" --no-resume --no-progress > "$run-probe.log" 2>&1 \
    || { echo "probe failed:"; tail -n 20 "$run-probe.log"; exit 1; }
rate=$("$python" - "$run-probe/metrics.csv" <<'EOF'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["name"] == "train/loss"]
(s0, t0), (s1, t1) = [(int(r["step"]), float(r["wall_time"])) for r in rows[-2:]]
print(f"{(s1 - s0) / (t1 - t0):.3f}")
EOF
)
steps=$("$python" -c "print(max(100, int($rate * $budget * 0.9)))")
echo "$rate steps/s (probe of $probe_steps steps took $(( $(date +%s) - probe_started )) s): training $steps steps"

timeout $(( budget + 120 )) "$python" -m motiongpt.cli train tokenizer --config "$config" --data "$data" \
    --output-dir "$run" --export "$run/export" --max-steps "$steps" --device "$device" --no-progress \
    > "$run.log" 2>&1 || { echo "training failed or ran out of time:"; tail -n 20 "$run.log"; exit 1; }
for split in val test; do
    motiongpt eval tokenizer --model "$run/export" --data "$data" --split "$split" --device "$device" \
        --output "$run/eval_$split.json" > /dev/null
    "$python" -c "import json, sys; m = json.load(open(sys.argv[1])); print(sys.argv[2], {k: v for k, v in m.items() if not isinstance(v, (dict, list))})" \
        "$run/eval_$split.json" "$split"
done
if [ -n "${OUT:-}" ]; then
    tar czf "$OUT/tokenizer-small-gpu.tar.gz" -C "$(dirname "$run")" "$(basename "$run")/export" \
        "$(basename "$run")/eval_val.json" "$(basename "$run")/eval_test.json" "$(basename "$run")/metrics.csv" \
        "$(basename "$run")/config.json" "$(basename "$run")/run_summary.json" "$(basename "$run").log"
    echo "packed into $OUT/tokenizer-small-gpu.tar.gz"
fi
echo "total $(( $(date +%s) - started )) s"
