#!/usr/bin/env bash
# Prepares a CUDA build environment without a GPU, a driver or NVIDIA's installer: a virtual
# environment with pip's CUDA torch (installed --no-deps: only its libraries and CMake files are
# used, never `import torch`) and the nvidia-* wheels it links against, laid out as a CUDA toolkit
# root that CMake's FindCUDA and FindCUDAToolkit accept (unversioned .so names, lib64, and a stub
# libcuda.so for linking, as the toolkit's own lib64/stubs has: the real one comes with the driver).
# Prints the environment to build with; scripts/build-cuda.sh uses it.
#   scripts/cuda-wheels.sh [VENV (default .venv-cuda)] [torch requirement (default torch==2.14.1)]
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-.venv-cuda}"
requirement="${2:-torch==2.14.1}"
wheels=(nvidia-cuda-runtime nvidia-cuda-nvcc nvidia-cuda-cccl nvidia-cuda-crt nvidia-nvvm nvidia-cublas nvidia-cuda-cupti
  nvidia-cuda-nvrtc nvidia-cudnn-cu13 nvidia-cufft nvidia-cufile nvidia-curand nvidia-cusolver nvidia-cusparse
  nvidia-cusparselt-cu13 nvidia-nccl-cu13 nvidia-nvjitlink nvidia-nvshmem-cu13 nvidia-nvtx)
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
# A marker names what was installed, so a changed list installs again.
marker="$venv/distillery-cuda-wheels"
if [[ "$(cat "$marker" 2>/dev/null)" != "$requirement ${wheels[*]}" ]]; then
  echo "cuda-wheels: installing $requirement and ${#wheels[@]} nvidia wheels into $venv (several GB)" >&2
  "$venv/bin/pip" install --quiet --no-deps "$requirement" "${wheels[@]}" >&2
  echo "$requirement ${wheels[*]}" >"$marker"
fi
root="$site/nvidia/cu13"
for dir in "$root/lib" "$site"/nvidia/*/lib; do
  for lib in "$dir"/lib*.so.*; do
    [[ -e "$lib" ]] || continue
    base="${lib%%.so.*}.so"
    [[ -e "$base" ]] || ln -s "$(basename "$lib")" "$base"
  done
done
[[ -e "$root/lib64" ]] || ln -s lib "$root/lib64"
if [[ ! -e "$root/lib/stubs/libcuda.so" ]]; then
  mkdir -p "$root/lib/stubs"
  echo 'void distillery_cuda_stub(void) {}' | cc -shared -x c - -Wl,-soname,libcuda.so.1 -o "$root/lib/stubs/libcuda.so"
fi
cat <<ENV
export LIBTORCH=$site/torch
export CUDA_TOOLKIT_ROOT_DIR=$root
export CUDAToolkit_ROOT=$root
export CUDNN_ROOT=$site/nvidia/cudnn
export NCCL_ROOT=$site/nvidia/nccl
export PATH=$root/bin:\$PATH
ENV
