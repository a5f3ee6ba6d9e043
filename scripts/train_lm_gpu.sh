#!/usr/bin/env bash
# Train the language model's three stages (pretrain, instruct, balance) on a GPU within a time budget, for one
# or more model sizes side by side on the same GPU, from the prepared data file alone:
#
#   motiongpt train lm-data --config models/configs/lm_small_gpu_pretrain.yaml --out data/lm_train.npz  # once, anywhere
#   bash scripts/train_lm_gpu.sh 420 small base      # 420 s of training per size, sizes run concurrently
#
# It first runs 100 steps of each size's pretrain config (all sizes at once, so the rate is the rate they will
# share the machine at), reads the step rate from metrics.csv, and gives each stage of each size max_steps =
# rate x its share of the budget (pretrain 50%, instruct 30%, balance 20%), passed with --max-steps (recorded
# in each run's config.yaml). Each stage is bounded by `timeout` so the script always ends inside the budget
# plus start-up. Results: runs/lm-<size>-gpu-{pretrain,instruct,balance}/ (model/ in each).
# PYTHON selects the interpreter (default python3); MOTIONGPT_DEVICE the device (default auto: CUDA if any).
set -u
budget=${1:?seconds of training per size}
shift
sizes=${*:-small base}
python=${PYTHON:-python3}
device=${MOTIONGPT_DEVICE:-auto}
started=$(date +%s)
probe_steps=${PROBE_STEPS:-100}  # two metrics rows (log_every 50) give the rate

train() {  # size stage max_steps seconds_allowed
    local size=$1 stage=$2 steps=$3 allowed=$4 kind=instruct
    [ "$stage" = pretrain ] && kind=pretrain
    timeout "$allowed" "$python" -m motiongpt.cli train lm --stage "$kind" \
        --config "models/configs/lm_${size}_gpu_${stage}.yaml" --max-steps "$steps" --device "$device" \
        > "runs/lm-${size}-gpu-${stage}.log" 2>&1
}

mkdir -p runs
for size in $sizes; do
    rm -rf "runs/probe-$size"
    timeout 240 "$python" -m motiongpt.cli train lm --stage pretrain --config "models/configs/lm_${size}_gpu_pretrain.yaml" \
        --max-steps $probe_steps --output-dir "runs/probe-$size" --device "$device" > "runs/probe-$size.log" 2>&1 &
done
wait
probe_seconds=$(( $(date +%s) - started ))

for size in $sizes; do
    rate=$("$python" - "runs/probe-$size/metrics.csv" <<'EOF'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["name"] == "train/loss"]
(s0, t0), (s1, t1) = [(int(r["step"]), float(r["wall_time"])) for r in rows[-2:]]
print(f"{(s1 - s0) / (t1 - t0):.3f}")
EOF
    ) || { echo "probe of $size failed:"; tail -20 "runs/probe-$size.log"; continue; }
    echo "$size: $rate steps/s with all sizes running (probe took ${probe_seconds} s)"
    (
        steps() { "$python" -c "print(max(50, int($rate * $budget * $1 * 0.9)))"; }
        stage_end=$started
        for stage_share in pretrain:0.5 instruct:0.3 balance:0.2; do
            stage=${stage_share%%:*}; share=${stage_share##*:}
            n=$(steps "$share")
            stage_end=$(( stage_end + $("$python" -c "print(int($budget * $share))") + 25 ))
            allowed=$(( stage_end + probe_seconds - $(date +%s) ))
            [ $allowed -lt 30 ] && allowed=30
            echo "$size $stage: $n steps, at most $allowed s"
            train "$size" "$stage" "$n" "$allowed" || { echo "$size $stage failed:"; tail -20 "runs/lm-${size}-gpu-${stage}.log"; break; }
            grep -h "wall_seconds" "runs/lm-${size}-gpu-${stage}/summary.yaml"
        done
    ) &
done
wait
echo "total $(( $(date +%s) - started )) s"
