#!/usr/bin/env bash
# The README's GPU speed figures in one run, under JAX on one GPU:
#
#     bash benchmarks/gpu.sh [SECONDS_PER_MODEL]
#
# First the 2-D rounds under PacGAN's protocol, 100 rounds per program, 1, 5 and 10 seeds per
# program (benchmarks/rounds_2d.py),
# then AEGAN and O-GAN at their paper configs in float32 and mixed bfloat16
# (benchmarks/train_step.py, 50 timed rounds; MFU against an H100 SXM's dense bfloat16 peak),
# each in its own process stopped after SECONDS_PER_MODEL (default 240) with a line saying so:
# on an H100 under JAX 0.11.2 the first AEGAN round had not finished after about 280 s.
# Each figure names the device it ran on. Prints figures; asserts nothing.
set -u
cd "$(dirname "$0")/.."
limit=${1:-240}
export KERAS_BACKEND=${KERAS_BACKEND:-jax} PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>/dev/null
python3 -c "import jax, keras; print('jax', jax.__version__, 'keras', keras.__version__, jax.devices())"
python3 benchmarks/rounds_2d.py --models aegan,gan --protocols pacgan --per-call 100 --rounds 500 --repeats 2 --seeds 1,5,10
for model in ogan aegan; do
    for precision in float32 mixed_bfloat16; do
        timeout "$limit" python3 benchmarks/train_step.py --models "$model" --presets paper --rounds 50 \
            --precision "$precision" --peak-tflops 989 \
            || echo "$model paper $precision: stopped or failed after at most $limit s (exit $?)"
    done
done
