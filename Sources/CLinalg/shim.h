#ifndef ISACKIT_CLINALG_SHIM_H
#define ISACKIT_CLINALG_SHIM_H
// Complex arguments are passed as void* / plain structs so Swift's Complex<T>
// (two contiguous reals, same layout as C99 complex) can be handed over directly.
#define LAPACK_COMPLEX_STRUCTURE
#include <cblas.h>
#include <lapacke.h>
#include <fftw3.h>
#endif
