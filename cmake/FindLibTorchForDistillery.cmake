# Locates LibTorch through scripts/native-build.mjs, the one discovery node-gyp's binding.gyp uses
# too (the order of docs/install.md: LIBTORCH, then LIBTORCH_USE_PYTORCH=1, then the system's), and
# loads the TorchConfig.cmake it found. Sets DISTILLERY_TORCH_VERSION, DISTILLERY_TORCH_SOURCE,
# DISTILLERY_TORCH_LIBDIR, DISTILLERY_CXX_STANDARD (what LibTorch's headers demand: 17 or 20),
# DISTILLERY_NCCL_INCLUDE (NCCL's header directory for a CUDA LibTorch
# with NCCL, else empty) and DISTILLERY_DEFINITIONS (the compile definitions both builds share).

find_program(DISTILLERY_NODE NAMES node nodejs)
if(NOT DISTILLERY_NODE)
  message(FATAL_ERROR "node is needed to configure distillery (scripts/native-build.mjs finds LibTorch)")
endif()
get_filename_component(_distillery_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
execute_process(
  COMMAND "${DISTILLERY_NODE}" "${_distillery_root}/scripts/native-build.mjs" libtorch
  OUTPUT_VARIABLE _distillery_torch_json
  ERROR_VARIABLE _distillery_torch_error
  RESULT_VARIABLE _distillery_torch_rc)
if(NOT _distillery_torch_rc EQUAL 0)
  message(FATAL_ERROR "${_distillery_torch_error}then run: npx distillery build")
endif()
string(JSON DISTILLERY_TORCH_SOURCE GET "${_distillery_torch_json}" source)
string(JSON DISTILLERY_TORCH_VERSION GET "${_distillery_torch_json}" version)
string(JSON DISTILLERY_TORCH_LIBDIR GET "${_distillery_torch_json}" libDir)
string(JSON _distillery_torch_config GET "${_distillery_torch_json}" config)
string(JSON DISTILLERY_NCCL_INCLUDE GET "${_distillery_torch_json}" ncclInclude)
string(JSON _distillery_torch_cuda GET "${_distillery_torch_json}" cuda)
string(JSON DISTILLERY_CXX_STANDARD GET "${_distillery_torch_json}" cxxStandard)
set(DISTILLERY_DEFINITIONS "")
string(JSON _distillery_count LENGTH "${_distillery_torch_json}" definitions)
if(_distillery_count GREATER 0)
  math(EXPR _distillery_last "${_distillery_count} - 1")
  foreach(_i RANGE ${_distillery_last})
    string(JSON _definition GET "${_distillery_torch_json}" definitions ${_i})
    list(APPEND DISTILLERY_DEFINITIONS "${_definition}")
  endforeach()
endif()

# The sources are C++17; LibTorch 2.14 and later demand C++20 of everything that includes them
# (set before LibTorch's config, which derives the CUDA standard from it).
set(CMAKE_CXX_STANDARD ${DISTILLERY_CXX_STANDARD})

# A CUDA LibTorch's config enables CMake's CUDA language and finds the toolkit, which needs nvcc:
# from CUDA_TOOLKIT_ROOT_DIR or CUDA_HOME (variables or environment; scripts/cuda-wheels.sh sets
# them for pip's nvidia wheels), else /usr/local/cuda or PATH. distillery compiles no CUDA source,
# so the architecture is only there to satisfy the language check; LibTorch's kernels are its own.
if(_distillery_torch_cuda AND NOT CMAKE_CUDA_COMPILER)
  foreach(_root "${CUDA_TOOLKIT_ROOT_DIR}" "$ENV{CUDA_TOOLKIT_ROOT_DIR}" "$ENV{CUDA_HOME}" /usr/local/cuda)
    if(_root AND EXISTS "${_root}/bin/nvcc")
      set(CUDA_TOOLKIT_ROOT_DIR "${_root}" CACHE PATH "CUDA toolkit for a CUDA LibTorch")
      set(CMAKE_CUDA_COMPILER "${_root}/bin/nvcc" CACHE FILEPATH "nvcc")
      break()
    endif()
  endforeach()
  if(NOT CMAKE_CUDA_COMPILER)
    find_program(CMAKE_CUDA_COMPILER nvcc)
  endif()
  if(NOT CMAKE_CUDA_COMPILER)
    message(FATAL_ERROR "LibTorch ${DISTILLERY_TORCH_VERSION} (${DISTILLERY_TORCH_SOURCE}) is a CUDA build: its CMake config needs the CUDA toolkit (nvcc). "
      "Set CUDA_HOME to it, or build the toolkit from pip's wheels: eval \"$(scripts/cuda-wheels.sh)\"")
  endif()
  if(NOT CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 80 CACHE STRING "only for CMake's CUDA language check")
  endif()
  # Nor do LibTorch's CUDA settings matter to a build without CUDA sources; naming them skips its
  # GPU probe (a try_run) and a CUDA dialect that older CMake cannot give nvcc.
  if(NOT CMAKE_CUDA_STANDARD)
    set(CMAKE_CUDA_STANDARD 17)
  endif()
  if(NOT TORCH_CUDA_ARCH_LIST AND NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
    set(TORCH_CUDA_ARCH_LIST "8.0;9.0")
  endif()
endif()

# Torch_DIR and the libraries TorchConfig finds are cached: forget them so that changing LIBTORCH
# (or the way) in a build tree takes effect.
unset(Torch_DIR CACHE)
foreach(_lib Caffe2_DIR TORCH_LIBRARY c10_LIBRARY kineto_LIBRARY)
  unset(${_lib} CACHE)
endforeach()
# TorchConfig looks for libtorch with find_library(... PATHS <its prefix>/lib), and PATHS come after
# the system directories: with Debian's libtorch-dev installed, a pip or archive LibTorch's config
# would pick /usr/lib's libtorch.so of another version. Only the system way may search there.
# (Nor the prefixes CMake derives from PATH: /usr/bin gives /usr, where Debian keeps Caffe2's config.)
if(NOT DISTILLERY_TORCH_SOURCE STREQUAL "system")
  set(CMAKE_FIND_USE_CMAKE_SYSTEM_PATH FALSE)
  set(CMAKE_FIND_USE_SYSTEM_ENVIRONMENT_PATH FALSE)
endif()
find_package(Torch QUIET CONFIG PATHS "${_distillery_torch_config}" NO_DEFAULT_PATH)
unset(CMAKE_FIND_USE_CMAKE_SYSTEM_PATH)
unset(CMAKE_FIND_USE_SYSTEM_ENVIRONMENT_PATH)
if(NOT Torch_FOUND)
  message(FATAL_ERROR "LibTorch ${DISTILLERY_TORCH_VERSION} (${DISTILLERY_TORCH_SOURCE}): ${_distillery_torch_config}/TorchConfig.cmake did not load")
endif()
message(STATUS "distillery: LibTorch ${DISTILLERY_TORCH_VERSION} from ${DISTILLERY_TORCH_SOURCE} (${DISTILLERY_TORCH_LIBDIR})")
