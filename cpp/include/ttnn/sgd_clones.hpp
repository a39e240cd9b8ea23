// The SGD step loops' code generation (internal to sgd.cpp and its kernels).
#pragma once

// A step loop, cloned by GCC for AVX2 (chosen at load time where the CPU has
// it): the kernels' fixed-length loops then run four doubles wide. Only
// vertical adds, multiplies and compares vectorise there (no reductions, and
// FMA is not enabled), so both clones round alike. The driver's loop
// (sgd.cpp) and the bodies of the split mini-batch step's parallel loops
// (sgd_minibatch.hpp), which OpenMP outlines out of the driver's loop, carry it.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define TTNN_STEP_CLONES __attribute__((target_clones("avx2", "default"), flatten))
#else
#define TTNN_STEP_CLONES
#endif
