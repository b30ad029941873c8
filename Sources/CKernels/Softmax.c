// Row softmax and its pullback for the learning stack (attention scores [N·heads, Lq, Lk] are the largest
// tensors of a transformer step). Swift's SIMD8<Float> compiles to two SSE halves on the x86-64 baseline, so the
// exponential runs 4 lanes wide; here the same Cephes-style expf runs 16 (AVX-512F) or 8 (AVX2+FMA) lanes wide,
// chosen once at run time.
#include "CKernels.h"
#include <math.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CK_X86 1
#endif

// e^x = 2^n · e^r, n = round(x·log₂e), r = x − n·ln2 (ln 2 as a Cody–Waite hi/lo pair, so r is exact to float
// rounding, |r| ≤ ln2/2), e^r ≈ 1 + r + r²·P(r) with the degree-5 minimax P of Cephes `expf`.
#define CK_EXP_HI 88.72283f
#define CK_EXP_LO (-87.33654f)
#define CK_LOG2E 1.44269504f
#define CK_LN2_HI 0.693359375f
#define CK_LN2_LO (-2.12194440e-4f)
#define CK_P0 1.98756915e-4f
#define CK_P1 1.39819995e-3f
#define CK_P2 8.3334519e-3f
#define CK_P3 4.16657959e-2f
#define CK_P4 1.66666655e-1f
#define CK_P5 5.00000012e-1f

static inline float exp_scalar(float x) {
    if (x != x) return x;
    if (x < CK_EXP_LO) return 0.0f;
    if (x > CK_EXP_HI) return INFINITY;
    const float n = nearbyintf(x * CK_LOG2E);
    const float r = (x - n * CK_LN2_HI) - n * CK_LN2_LO;
    float p = CK_P0;
    p = p * r + CK_P1; p = p * r + CK_P2; p = p * r + CK_P3; p = p * r + CK_P4; p = p * r + CK_P5;
    return ldexpf(p * (r * r) + r + 1.0f, (int)n);
}

static void softmax_rows_portable(const float *x, float *out, long rows, long c) {
    for (long i = 0; i < rows; i++) {
        const float *xi = x + i * c;
        float *oi = out + i * c;
        float m = -INFINITY;
        for (long j = 0; j < c; j++) m = xi[j] > m ? xi[j] : m;
        if (m == -INFINITY) m = 0;  // an all −∞ row: e^{−∞} = 0 everywhere, 0/0 = NaN
        float s = 0;
        for (long j = 0; j < c; j++) { const float e = exp_scalar(xi[j] - m); oi[j] = e; s += e; }
        const float inv = 1.0f / s;
        for (long j = 0; j < c; j++) oi[j] *= inv;
    }
}

static void softmax_pullback_rows_portable(const float *y, const float *g, float *dx, long rows, long c) {
    for (long i = 0; i < rows; i++) {
        const float *yi = y + i * c, *gi = g + i * c;
        float *di = dx + i * c;
        float dot = 0;
        for (long j = 0; j < c; j++) dot += gi[j] * yi[j];
        for (long j = 0; j < c; j++) di[j] = yi[j] * (gi[j] - dot);
    }
}

#ifdef CK_X86
__attribute__((target("avx512f"), always_inline)) static inline __m512 exp512(__m512 x) {
    const __m512 xc = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(CK_EXP_LO)), _mm512_set1_ps(CK_EXP_HI));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(xc, _mm512_set1_ps(CK_LOG2E)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(CK_LN2_HI), xc);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(CK_LN2_LO), r);
    __m512 p = _mm512_set1_ps(CK_P0);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(CK_P1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(CK_P2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(CK_P3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(CK_P4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(CK_P5));
    const __m512 er = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
    __m512 y = _mm512_scalef_ps(er, n);  // er · 2ⁿ, exact for every n in range
    y = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, _mm512_set1_ps(CK_EXP_LO), _CMP_LT_OQ), _mm512_setzero_ps());
    y = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, _mm512_set1_ps(CK_EXP_HI), _CMP_GT_OQ), _mm512_set1_ps(INFINITY));
    return _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), x);  // NaN stays NaN
}

__attribute__((target("avx512f"))) static void softmax_rows_avx512(const float *x, float *out, long rows, long c) {
    for (long i = 0; i < rows; i++) {
        const float *xi = x + i * c;
        float *oi = out + i * c;
        const long tail = c & 15;
        const __mmask16 tm = (__mmask16)((1u << tail) - 1u);
        __m512 mv = _mm512_set1_ps(-INFINITY);
        long j = 0;
        for (; j + 16 <= c; j += 16) mv = _mm512_max_ps(mv, _mm512_loadu_ps(xi + j));
        if (tail) mv = _mm512_mask_max_ps(mv, tm, mv, _mm512_maskz_loadu_ps(tm, xi + j));
        float m = _mm512_reduce_max_ps(mv);
        // NaN inputs: max_ps drops them, but x − m then stays NaN and the row sum becomes NaN, as in the scalar code
        if (m == -INFINITY) m = 0;
        const __m512 mb = _mm512_set1_ps(m);
        __m512 sv = _mm512_setzero_ps();
        for (j = 0; j + 16 <= c; j += 16) {
            const __m512 e = exp512(_mm512_sub_ps(_mm512_loadu_ps(xi + j), mb));
            _mm512_storeu_ps(oi + j, e);
            sv = _mm512_add_ps(sv, e);
        }
        if (tail) {
            const __m512 e = exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(tm, xi + j), mb));
            _mm512_mask_storeu_ps(oi + j, tm, e);
            sv = _mm512_mask_add_ps(sv, tm, sv, e);
        }
        const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sv));
        for (j = 0; j + 16 <= c; j += 16) _mm512_storeu_ps(oi + j, _mm512_mul_ps(_mm512_loadu_ps(oi + j), inv));
        if (tail) _mm512_mask_storeu_ps(oi + j, tm, _mm512_mul_ps(_mm512_maskz_loadu_ps(tm, oi + j), inv));
    }
}

__attribute__((target("avx512f"))) static void softmax_pullback_rows_avx512(const float *y, const float *g, float *dx,
                                                                            long rows, long c) {
    for (long i = 0; i < rows; i++) {
        const float *yi = y + i * c, *gi = g + i * c;
        float *di = dx + i * c;
        const long tail = c & 15;
        const __mmask16 tm = (__mmask16)((1u << tail) - 1u);
        __m512 dv = _mm512_setzero_ps();
        long j = 0;
        for (; j + 16 <= c; j += 16) dv = _mm512_fmadd_ps(_mm512_loadu_ps(gi + j), _mm512_loadu_ps(yi + j), dv);
        if (tail) dv = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tm, gi + j), _mm512_maskz_loadu_ps(tm, yi + j), dv);
        const __m512 db = _mm512_set1_ps(_mm512_reduce_add_ps(dv));
        for (j = 0; j + 16 <= c; j += 16)
            _mm512_storeu_ps(di + j, _mm512_mul_ps(_mm512_loadu_ps(yi + j), _mm512_sub_ps(_mm512_loadu_ps(gi + j), db)));
        if (tail)
            _mm512_mask_storeu_ps(di + j, tm, _mm512_mul_ps(_mm512_maskz_loadu_ps(tm, yi + j),
                                                            _mm512_sub_ps(_mm512_maskz_loadu_ps(tm, gi + j), db)));
    }
}

__attribute__((target("avx2,fma"), always_inline)) static inline __m256 exp256(__m256 x) {
    const __m256 xc = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(CK_EXP_LO)), _mm256_set1_ps(CK_EXP_HI));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(CK_LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(CK_LN2_HI), xc);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(CK_LN2_LO), r);
    __m256 p = _mm256_set1_ps(CK_P0);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(CK_P1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(CK_P2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(CK_P3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(CK_P4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(CK_P5));
    const __m256 er = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
    // 2ⁿ as 2^{n₁}·2^{n₂}, n₁ = ⌊n/2⌋: each factor stays normal for every n in −126…128
    const __m256i ni = _mm256_cvtps_epi32(n);
    const __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
    const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, _mm256_set1_epi32(127)), 23));
    const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, _mm256_set1_epi32(127)), 23));
    __m256 y = _mm256_mul_ps(_mm256_mul_ps(er, s1), s2);
    y = _mm256_blendv_ps(y, _mm256_setzero_ps(), _mm256_cmp_ps(x, _mm256_set1_ps(CK_EXP_LO), _CMP_LT_OQ));
    y = _mm256_blendv_ps(y, _mm256_set1_ps(INFINITY), _mm256_cmp_ps(x, _mm256_set1_ps(CK_EXP_HI), _CMP_GT_OQ));
    return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

__attribute__((target("avx2,fma"))) static float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}
__attribute__((target("avx2,fma"))) static float hmax256(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma"))) static void softmax_rows_avx2(const float *x, float *out, long rows, long c) {
    for (long i = 0; i < rows; i++) {
        const float *xi = x + i * c;
        float *oi = out + i * c;
        __m256 mv = _mm256_set1_ps(-INFINITY);
        long j = 0;
        for (; j + 8 <= c; j += 8) mv = _mm256_max_ps(mv, _mm256_loadu_ps(xi + j));
        float m = hmax256(mv);
        for (; j < c; j++) m = xi[j] > m ? xi[j] : m;
        if (m == -INFINITY) m = 0;
        const __m256 mb = _mm256_set1_ps(m);
        __m256 sv = _mm256_setzero_ps();
        for (j = 0; j + 8 <= c; j += 8) {
            const __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(xi + j), mb));
            _mm256_storeu_ps(oi + j, e);
            sv = _mm256_add_ps(sv, e);
        }
        float s = hsum256(sv);
        for (; j < c; j++) { const float e = exp_scalar(xi[j] - m); oi[j] = e; s += e; }
        const float inv = 1.0f / s;
        const __m256 invv = _mm256_set1_ps(inv);
        for (j = 0; j + 8 <= c; j += 8) _mm256_storeu_ps(oi + j, _mm256_mul_ps(_mm256_loadu_ps(oi + j), invv));
        for (; j < c; j++) oi[j] *= inv;
    }
}

__attribute__((target("avx2,fma"))) static void softmax_pullback_rows_avx2(const float *y, const float *g, float *dx,
                                                                          long rows, long c) {
    for (long i = 0; i < rows; i++) {
        const float *yi = y + i * c, *gi = g + i * c;
        float *di = dx + i * c;
        __m256 dv = _mm256_setzero_ps();
        long j = 0;
        for (; j + 8 <= c; j += 8) dv = _mm256_fmadd_ps(_mm256_loadu_ps(gi + j), _mm256_loadu_ps(yi + j), dv);
        float dot = hsum256(dv);
        for (; j < c; j++) dot += gi[j] * yi[j];
        const __m256 db = _mm256_set1_ps(dot);
        for (j = 0; j + 8 <= c; j += 8)
            _mm256_storeu_ps(di + j, _mm256_mul_ps(_mm256_loadu_ps(yi + j), _mm256_sub_ps(_mm256_loadu_ps(gi + j), db)));
        for (; j < c; j++) di[j] = yi[j] * (gi[j] - dot);
    }
}
#endif

int ck_softmax_path(void) { return ck_tall_thin_tn_path(); }

void ck_softmax_rows_on_path(int path, const float *x, float *out, long rows, long c) {
    if (rows <= 0 || c <= 0) return;
    const int best = ck_softmax_path();
    if (path > best) path = best;
#ifdef CK_X86
    if (path == 2) { softmax_rows_avx512(x, out, rows, c); return; }
    if (path == 1) { softmax_rows_avx2(x, out, rows, c); return; }
#endif
    (void)path;
    softmax_rows_portable(x, out, rows, c);
}

void ck_softmax_pullback_rows_on_path(int path, const float *y, const float *g, float *dx, long rows, long c) {
    if (rows <= 0 || c <= 0) return;
    const int best = ck_softmax_path();
    if (path > best) path = best;
#ifdef CK_X86
    if (path == 2) { softmax_pullback_rows_avx512(y, g, dx, rows, c); return; }
    if (path == 1) { softmax_pullback_rows_avx2(y, g, dx, rows, c); return; }
#endif
    (void)path;
    softmax_pullback_rows_portable(y, g, dx, rows, c);
}
