#!/usr/bin/env bash
# The GPU checks of issue #15, as one run of a few minutes on a machine with an NVIDIA GPU,
# CuPy (pip install 'chainrule[cuda]') and a CUDA build of PyTorch:
#   1. float64 op parity, cuda vs CPU, rtol 1e-9: the device parity tables (ops, nn layers and
#      losses, every optimizer and scheduler) on the real GPU instead of the test suite's stand-in;
#   2. benchmarks/gpu_check.py: CuPy's memory pool over 1,000 steps, MLP step times against
#      PyTorch CUDA eager (TF32 off in both), the digits MLP and CNN trained on cuda and on the CPU.
# Usage: benchmarks/gpu_check.sh [OUT_DIR]   (default: $OUT if set, else benchmarks/gpu_results)
# The figures land in OUT_DIR: parity.txt, gpu_check.json, gpu_check.txt.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${1:-${OUT:-benchmarks/gpu_results}}"
mkdir -p "$out"
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
unset CUPY_TF32  # TF32 off: CuPy's default; PyTorch's is set off in gpu_check.py
if ! python -c "import cupy, torch; assert cupy.is_available() and torch.cuda.is_available()" 2>/dev/null; then
    echo "gpu_check needs a GPU that both CuPy and a CUDA build of PyTorch see" >&2
    exit 2
fi
echo "== float64 op parity on the GPU (rtol 1e-9)"
CHAINRULE_TEST_DEVICE=cuda timeout 300 python -m pytest -q -p no:cacheprovider \
    tests/ops/test_ops_on_device.py tests/nn/test_nn_on_device.py tests/optim/test_optim_on_device.py \
    2>&1 | tee "$out/parity.txt" | tail -15
echo "== memory, speed, digits"
timeout 420 python benchmarks/gpu_check.py --out "$out"
