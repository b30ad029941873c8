// Streaming kernel for C = Bᵀ Ŷ with B [rows × atoms] tall (rows ≈ 65k) and Ŷ thin (npad ≈ 16 columns).
// A packed GEMM copies B into panels first (an extra pass over 1.2 GB in SOMP's wideband case); here every
// element of B is loaded once, straight from its column, and broadcast against a register row of Ŷ.
#include "CKernels.h"
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CK_X86 1
#endif

// Rows per block: Ŷ block = ROWBLOCK_BYTES (stays in L2 while all atoms stream past it).
#ifndef ROWBLOCK_BYTES
#define ROWBLOCK_BYTES (128 * 1024)
#endif

static long row_block(long npad) {
    long r = ROWBLOCK_BYTES / (8 * npad);
    return r < 64 ? 64 : r;
}

static void tn_portable(const double *b, long ldb, long r0, long r1, long atoms, const double *yh, long npad,
                        double *out) {
    for (long a = 0; a < atoms; a++) {
        const double *ba = b + a * ldb;
        double *o = out + a * npad;
        for (long r = r0; r < r1; r++) {
            const double s = ba[r];
            const double *y = yh + r * npad;
            for (long c = 0; c < npad; c++) o[c] += s * y[c];
        }
    }
}

#ifdef CK_X86
// NA atoms × NV vectors of 8 columns; constant arguments after inlining → all accumulators in registers.
__attribute__((target("avx512f"), always_inline)) static inline void
mk512(const int NA, const int NV, const double *b, long ldb, long r0, long r1, const double *yh, long npad,
      long c0, double *out) {
    __m512d acc[8][2];
    for (int a = 0; a < NA; a++) for (int v = 0; v < NV; v++) acc[a][v] = _mm512_setzero_pd();
    for (long r = r0; r < r1; r++) {
        __m512d y[2];
        for (int v = 0; v < NV; v++) y[v] = _mm512_loadu_pd(yh + r * npad + c0 + 8 * v);
        for (int a = 0; a < NA; a++) {
            const __m512d s = _mm512_set1_pd(b[r + a * ldb]);
            for (int v = 0; v < NV; v++) acc[a][v] = _mm512_fmadd_pd(s, y[v], acc[a][v]);
        }
    }
    for (int a = 0; a < NA; a++)
        for (int v = 0; v < NV; v++) {
            double *o = out + a * npad + c0 + 8 * v;
            _mm512_storeu_pd(o, _mm512_add_pd(_mm512_loadu_pd(o), acc[a][v]));
        }
}

__attribute__((target("avx512f"))) static void
tn_avx512(const double *b, long ldb, long r0, long r1, long atoms, const double *yh, long npad, double *out) {
    long c0 = 0;
    for (; c0 + 16 <= npad; c0 += 16) {
        long a = 0;
        for (; a + 8 <= atoms; a += 8) mk512(8, 2, b + a * ldb, ldb, r0, r1, yh, npad, c0, out + a * npad);
        for (; a < atoms; a++) mk512(1, 2, b + a * ldb, ldb, r0, r1, yh, npad, c0, out + a * npad);
    }
    if (c0 < npad) { // one chunk of 8 columns left
        long a = 0;
        for (; a + 8 <= atoms; a += 8) mk512(8, 1, b + a * ldb, ldb, r0, r1, yh, npad, c0, out + a * npad);
        for (; a < atoms; a++) mk512(1, 1, b + a * ldb, ldb, r0, r1, yh, npad, c0, out + a * npad);
    }
}

// AVX2: NA atoms × 2 vectors of 4 columns (8 columns per chunk); 16 ymm registers.
__attribute__((target("avx2,fma"), always_inline)) static inline void
mk256(const int NA, const double *b, long ldb, long r0, long r1, const double *yh, long npad, long c0,
      double *out) {
    __m256d acc[6][2];
    for (int a = 0; a < NA; a++) { acc[a][0] = _mm256_setzero_pd(); acc[a][1] = _mm256_setzero_pd(); }
    for (long r = r0; r < r1; r++) {
        const __m256d y0 = _mm256_loadu_pd(yh + r * npad + c0), y1 = _mm256_loadu_pd(yh + r * npad + c0 + 4);
        for (int a = 0; a < NA; a++) {
            const __m256d s = _mm256_broadcast_sd(b + r + a * ldb);
            acc[a][0] = _mm256_fmadd_pd(s, y0, acc[a][0]);
            acc[a][1] = _mm256_fmadd_pd(s, y1, acc[a][1]);
        }
    }
    for (int a = 0; a < NA; a++)
        for (int v = 0; v < 2; v++) {
            double *o = out + a * npad + c0 + 4 * v;
            _mm256_storeu_pd(o, _mm256_add_pd(_mm256_loadu_pd(o), acc[a][v]));
        }
}

__attribute__((target("avx2,fma"))) static void
tn_avx2(const double *b, long ldb, long r0, long r1, long atoms, const double *yh, long npad, double *out) {
    for (long c0 = 0; c0 < npad; c0 += 8) {
        long a = 0;
        for (; a + 6 <= atoms; a += 6) mk256(6, b + a * ldb, ldb, r0, r1, yh, npad, c0, out + a * npad);
        for (; a < atoms; a++) mk256(1, b + a * ldb, ldb, r0, r1, yh, npad, c0, out + a * npad);
    }
}
#endif

int ck_tall_thin_tn_path(void) {
#ifdef CK_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
#endif
    return 0;
}

void ck_tall_thin_tn(const double *b, long ldb, long rows, long atoms, const double *yh, long npad, double *out) {
    ck_tall_thin_tn_on_path(ck_tall_thin_tn_path(), b, ldb, rows, atoms, yh, npad, out);
}

void ck_tall_thin_tn_on_path(int path, const double *b, long ldb, long rows, long atoms, const double *yh, long npad,
                             double *out) {
    if (atoms <= 0 || npad <= 0) return;
    memset(out, 0, sizeof(double) * (size_t)atoms * (size_t)npad);
    const int best = ck_tall_thin_tn_path();
    if (path > best) path = best;
    const long rb = row_block(npad);
    for (long r0 = 0; r0 < rows; r0 += rb) {
        const long r1 = r0 + rb < rows ? r0 + rb : rows;
#ifdef CK_X86
        if (path == 2) { tn_avx512(b, ldb, r0, r1, atoms, yh, npad, out); continue; }
        if (path == 1) { tn_avx2(b, ldb, r0, r1, atoms, yh, npad, out); continue; }
#endif
        (void)path;
        tn_portable(b, ldb, r0, r1, atoms, yh, npad, out);
    }
}
