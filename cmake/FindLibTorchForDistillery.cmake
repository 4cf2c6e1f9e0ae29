# Locates LibTorch in the order documented in docs/install.md:
#   1. LIBTORCH (a libtorch directory: the pytorch.org archive, a conda or pip install)
#   2. LIBTORCH_USE_PYTORCH=1 (ask python3 where its torch package keeps the CMake config)
#   3. the system install (Debian/Ubuntu libtorch-dev)
# and checks the version from torch/version.h. Sets DISTILLERY_TORCH_VERSION,
# DISTILLERY_TORCH_SOURCE and DISTILLERY_TORCH_LIBDIR.

set(_distillery_torch_help
"distillery needs LibTorch 1.13 to 2.x. Provide it in one of three ways:
  1. export LIBTORCH=/path/to/libtorch   (the pytorch.org archive, or a conda/pip torch: <site-packages>/torch)
  2. export LIBTORCH_USE_PYTORCH=1       (use the torch package of the python3 on PATH)
  3. sudo apt-get install libtorch-dev   (Debian/Ubuntu system LibTorch, the default)
then run: DISTILLERY_FORCE_BUILD=1 npm rebuild distillery  (or: npx cmake-js compile)")

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
if((DEFINED ENV{LIBTORCH} AND NOT "$ENV{LIBTORCH}" STREQUAL "") OR "$ENV{LIBTORCH_USE_PYTORCH}" STREQUAL "1")
  set(CMAKE_FIND_USE_CMAKE_SYSTEM_PATH FALSE)
  set(CMAKE_FIND_USE_SYSTEM_ENVIRONMENT_PATH FALSE)
endif()
if(DEFINED ENV{LIBTORCH} AND NOT "$ENV{LIBTORCH}" STREQUAL "")
  set(DISTILLERY_TORCH_SOURCE "LIBTORCH=$ENV{LIBTORCH}")
  find_package(Torch QUIET CONFIG
    PATHS "$ENV{LIBTORCH}" "$ENV{LIBTORCH}/share/cmake/Torch"
    NO_DEFAULT_PATH)
elseif("$ENV{LIBTORCH_USE_PYTORCH}" STREQUAL "1")
  set(DISTILLERY_TORCH_SOURCE "LIBTORCH_USE_PYTORCH=1")
  find_program(_distillery_python NAMES python3 python)
  if(_distillery_python)
    execute_process(
      COMMAND "${_distillery_python}" -c "import torch, torch.utils; print(torch.utils.cmake_prefix_path)"
      OUTPUT_VARIABLE _distillery_torch_prefix
      OUTPUT_STRIP_TRAILING_WHITESPACE
      RESULT_VARIABLE _distillery_python_rc
      ERROR_QUIET)
    if(_distillery_python_rc EQUAL 0)
      find_package(Torch QUIET CONFIG PATHS "${_distillery_torch_prefix}/Torch" "${_distillery_torch_prefix}" NO_DEFAULT_PATH)
    endif()
  endif()
else()
  set(DISTILLERY_TORCH_SOURCE "system")
  find_package(Torch QUIET CONFIG)
endif()

unset(CMAKE_FIND_USE_CMAKE_SYSTEM_PATH)
unset(CMAKE_FIND_USE_SYSTEM_ENVIRONMENT_PATH)

if(NOT Torch_FOUND)
  message(FATAL_ERROR "LibTorch not found (looked via ${DISTILLERY_TORCH_SOURCE}).\n${_distillery_torch_help}")
endif()

# The version defines live in torch/version.h up to PyTorch 2.7, and in torch/headeronly/version.h
# (which torch/version.h only includes) from 2.8: read them from every such header found.
set(_distillery_version_files "")
foreach(_dir IN LISTS TORCH_INCLUDE_DIRS)
  foreach(_candidate "${_dir}/torch/version.h" "${_dir}/torch/csrc/api/include/torch/version.h" "${_dir}/torch/headeronly/version.h")
    if(EXISTS "${_candidate}")
      list(APPEND _distillery_version_files "${_candidate}")
    endif()
  endforeach()
endforeach()
list(REMOVE_DUPLICATES _distillery_version_files)
if(NOT _distillery_version_files)
  message(FATAL_ERROR "LibTorch found (${DISTILLERY_TORCH_SOURCE}) but torch/version.h is missing from ${TORCH_INCLUDE_DIRS}.\n${_distillery_torch_help}")
endif()
set(_distillery_version_lines "")
foreach(_file IN LISTS _distillery_version_files)
  file(STRINGS "${_file}" _lines REGEX "#define TORCH_VERSION_(MAJOR|MINOR|PATCH) ")
  list(APPEND _distillery_version_lines ${_lines})
endforeach()
foreach(_line IN LISTS _distillery_version_lines)
  if(_line MATCHES "TORCH_VERSION_(MAJOR|MINOR|PATCH) ([0-9]+)")
    set(_distillery_torch_${CMAKE_MATCH_1} ${CMAKE_MATCH_2})
  endif()
endforeach()
if(NOT DEFINED _distillery_torch_MAJOR OR NOT DEFINED _distillery_torch_MINOR OR NOT DEFINED _distillery_torch_PATCH)
  message(FATAL_ERROR "LibTorch found (${DISTILLERY_TORCH_SOURCE}) but no TORCH_VERSION_MAJOR/MINOR/PATCH in ${_distillery_version_files}.\n${_distillery_torch_help}")
endif()
set(DISTILLERY_TORCH_VERSION "${_distillery_torch_MAJOR}.${_distillery_torch_MINOR}.${_distillery_torch_PATCH}")
if(DISTILLERY_TORCH_VERSION VERSION_LESS "1.13" OR NOT DISTILLERY_TORCH_VERSION VERSION_LESS "3.0")
  message(FATAL_ERROR "LibTorch ${DISTILLERY_TORCH_VERSION} (${DISTILLERY_TORCH_SOURCE}, ${_distillery_version_files}) is not supported.\n${_distillery_torch_help}")
endif()

get_filename_component(DISTILLERY_TORCH_LIBDIR "${TORCH_LIBRARY}" DIRECTORY)
message(STATUS "distillery: LibTorch ${DISTILLERY_TORCH_VERSION} from ${DISTILLERY_TORCH_SOURCE} (${DISTILLERY_TORCH_LIBDIR})")
