#!/usr/bin/env bash
# Build the C++ core with AddressSanitizer + UndefinedBehaviorSanitizer (Debug,
# unstripped, frame pointers kept) and run the test suite, or the pytest
# arguments given, against that build. Run before a release; see CONTRIBUTING.md.
#
#   tools/sanitize.sh                          # the default subset (below)
#   tools/sanitize.sh tests                    # the whole suite (slow: ~5x)
#   tools/sanitize.sh tests/test_sgd.py -k ensemble
#
# Environment: PYTHON (default: python), JOBS (build jobs, default 2),
# BUILD (build directory, default build/sanitize), SKIP_BUILD=1 (test the
# sanitized module already built, with the current Python sources).
#
# The regular build in python/ttnn is left alone: the sanitized module goes into a
# staged copy of the package under $BUILD/stage, which PYTHONPATH points at.
# Python itself is not instrumented, so libasan is preloaded (it must come first
# in the process) and leak detection is off (the interpreter keeps memory alive
# at exit on purpose); any memory error or undefined behaviour in the core aborts
# the test process with a report on stderr, which fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python}
JOBS=${JOBS:-2}
BUILD=${BUILD:-build/sanitize}
SAN="-fsanitize=address,undefined"
# -O1: the suite stays usable (the dynamics loops are hot) and reports keep
# line numbers; -fno-sanitize-recover: the first UB report is fatal.
FLAGS="-g -O1 -fno-omit-frame-pointer $SAN -fno-sanitize-recover=undefined"

if [ "${SKIP_BUILD:-0}" != 1 ]; then
    cmake -S . -B "$BUILD" \
        -DCMAKE_BUILD_TYPE=Debug \
        -DCMAKE_CXX_FLAGS_DEBUG="$FLAGS" \
        -DCMAKE_SHARED_LINKER_FLAGS="$SAN" \
        -Dpybind11_DIR="$("$PYTHON" -m pybind11 --cmakedir)" \
        -DSKBUILD_PROJECT_NAME=ttnn -DSKBUILD_PROJECT_VERSION=0.1.0 \
        -DPython_EXECUTABLE="$(command -v "$PYTHON")" >/dev/null
    cmake --build "$BUILD" -j"$JOBS"
fi

stage="$BUILD/stage"
rm -rf "$stage"
mkdir -p "$stage"
cp -r python/ttnn "$stage/ttnn"
rm -f "$stage"/ttnn/_core*.so
cp "$BUILD"/_core*.so "$stage/ttnn/"

compiler=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
libasan=$("$compiler" -print-file-name=libasan.so)
if [ ! -e "$libasan" ]; then
    echo "sanitize.sh: libasan.so not found for $compiler" >&2
    exit 2
fi

# The default subset: every C++ entry point (exactness, ensembles, interruption,
# guards, hostile input, properties) without the long reproduce/paper runs.
if [ "$#" -eq 0 ]; then
    set -- tests --ignore=tests/test_paper_claims.py --ignore=tests/test_reproduce.py \
        --ignore=tests/test_reproduce_relu1d.py --ignore=tests/test_sweep_dask.py
fi

# libstdc++ is preloaded too: ASan intercepts __cxa_throw only if the C++
# runtime is present at start-up (Python is a C program and loads it later),
# otherwise the first C++ exception aborts with "CHECK failed: real___cxa_throw".
libstdcxx=$("$compiler" -print-file-name=libstdc++.so)
export LD_PRELOAD="$libasan:$libstdcxx${LD_PRELOAD:+:$LD_PRELOAD}"
# allocator_may_return_null: an absurd request must fail as glibc's malloc does
# (NULL, then MemoryError), not abort: the damaged-store tests hand zarr a
# corrupt variable-length chunk whose decoder (numcodecs) then asks for ~34 GB.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:strict_init_order=1:allocator_may_return_null=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export PYTHONPATH="$PWD/$stage"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
# Tests that measure memory through RSS skip themselves (ASan keeps freed
# blocks in quarantine, so RSS no longer tracks leaks).
export TTNN_SANITIZED=1
# Subprocesses of the tests (CLI, Ctrl-C) inherit all of the above.
"$PYTHON" -c "import ttnn, sys; print('sanitized ttnn from', ttnn.__file__, file=sys.stderr)"
exec "$PYTHON" -m pytest -q -p no:cacheprovider "$@"
