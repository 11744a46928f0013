#!/usr/bin/env bash
# The README's GPU figures in one run of about 10 minutes, under JAX on one GPU:
#
#     bash benchmarks/gpu.sh [PERCENT]
#
# 1. AEGAN at the paper config, the round compiled three ways (benchmarks/train_step.py
#    --round): looped (each repeated update one loop body, the GPU default), one program per
#    update, and unrolled (the CPU's choice; on an H100 under JAX 0.11.2 its first round had not
#    finished after about 280 s). Each prints its first round's time, compiling included, then
#    ms/step over 20 rounds.
# 2. O-GAN at its paper config (128x128, batch 64), looped and in mixed bfloat16.
# 3. The 2-D rounds under PacGAN's protocol, 100 rounds per program, 1, 5 and 10 seeds per
#    program (benchmarks/rounds_2d.py).
# Each step runs in its own process under its own time limit (PERCENT of it, default 100) and
# prints a line when it stops there, so a hang says where it was. MFU is against an H100 SXM's
# dense bfloat16 peak. Every figure names the device it ran on. Prints figures; asserts nothing.
#
# On a machine with JAX but without Keras, the wheels in .whl/ (keras, namex and optree: pip
# download, see docs/performance.md) are installed to /tmp/site first.
set -u
cd "$(dirname "$0")/.."
percent=${1:-100}
export KERAS_BACKEND=${KERAS_BACKEND:-jax} PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2
if ! python3 -c "import keras" 2>/dev/null && ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        && export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>/dev/null
python3 -c "import jax, keras; print('jax', jax.__version__, 'keras', keras.__version__, jax.devices())"

step() {  # step SECONDS DESCRIPTION COMMAND...: the command under its limit, and where it stopped
    local limit description start
    limit=$(( $1 * percent / 100 )) description=$2
    shift 2
    echo "== $description (limit $limit s)"
    start=$SECONDS
    timeout "$limit" "$@"
    case $? in
        0) echo "== $description: done in $((SECONDS - start)) s" ;;
        124) echo "== $description: stopped at its limit of $limit s (the last line above is where it was)" ;;
        *) echo "== $description: failed after $((SECONDS - start)) s" ;;
    esac
}

bench="python3 benchmarks/train_step.py --presets paper --rounds 20 --peak-tflops 989"
step 120 "AEGAN paper, looped round" $bench --models aegan --round looped
step 90 "AEGAN paper, one program per update" $bench --models aegan --round per-update
step 135 "AEGAN paper, unrolled round" $bench --models aegan --round unrolled
step 60 "AEGAN paper, looped round, mixed bfloat16" $bench --models aegan --round looped --precision mixed_bfloat16
step 60 "O-GAN paper (128x128, batch 64)" $bench --models ogan --round looped
step 45 "O-GAN paper, mixed bfloat16" $bench --models ogan --round looped --precision mixed_bfloat16
step 75 "2-D rounds, 1, 5 and 10 seeds per program" \
    python3 benchmarks/rounds_2d.py --models aegan,gan --protocols pacgan --per-call 100 --rounds 500 --repeats 2 --seeds 1,5,10
