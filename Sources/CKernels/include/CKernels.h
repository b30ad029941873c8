#ifndef ISACKIT_CKERNELS_H
#define ISACKIT_CKERNELS_H

/// Streaming tall-thin correlation out = Bᵀ Ŷ (real double), for B with many long columns and Ŷ with few.
///
/// b:   column-major [rows × atoms], column a at b + a * ldb (ldb ≥ rows).
/// yh:  row-major [rows × npad], row r at yh + r * npad; npad a positive multiple of 8 (pad with zero columns).
/// out: row-major [atoms × npad]: out[a * npad + c] = Σ_r b[r + a * ldb] · yh[r * npad + c] (overwritten).
///
/// Reads B exactly once without packing: rows are blocked so one block of Ŷ stays in L2 while each atom's
/// contiguous row segment is streamed through register accumulators (AVX-512F or AVX2+FMA, chosen at run time
/// with __builtin_cpu_supports; portable C otherwise). Summation order: per row block, rows in increasing order,
/// blocks accumulated in increasing order.
void ck_tall_thin_tn(const double *b, long ldb, long rows, long atoms, const double *yh, long npad, double *out);

/// Which code path ck_tall_thin_tn takes on this CPU: 2 = AVX-512F, 1 = AVX2+FMA, 0 = portable C.
int ck_tall_thin_tn_path(void);

/// ck_tall_thin_tn on a given path (2 = AVX-512F, 1 = AVX2+FMA, 0 = portable C), capped at what this CPU
/// supports (ck_tall_thin_tn_path); lets tests cover every path on one machine.
void ck_tall_thin_tn_on_path(int path, const double *b, long ldb, long rows, long atoms, const double *yh, long npad,
                             double *out);

/// Row softmax out[i, j] = e^{x_ij − m_i} / Σ_k e^{x_ik − m_i}, m_i = max_j x_ij, of `rows` contiguous rows of `c`
/// floats (x and out may alias). e^x is a Cephes-style expf (Cody–Waite reduction, degree-5 minimax polynomial,
/// ≤ 2 ulp) 16 lanes wide (AVX-512F), 8 (AVX2+FMA) or scalar (path 0). An all −∞ row gives NaN (0/0); a NaN
/// anywhere in a row makes the row NaN. Results agree between paths to a few ulp, not bit for bit (FMA, lane count).
void ck_softmax_rows_on_path(int path, const float *x, float *out, long rows, long c);

/// Softmax pullback dx[i, j] = y_ij · (g_ij − Σ_k g_ik y_ik) on `rows` rows of `c` floats, same paths.
void ck_softmax_pullback_rows_on_path(int path, const float *y, const float *g, float *dx, long rows, long c);

/// The best path on this CPU for the softmax kernels: 2 = AVX-512F, 1 = AVX2+FMA, 0 = portable C.
int ck_softmax_path(void);

/// Shape of a 2-D convolution, NCHW input [n, c, h, w], OIHW filter [cout, c, kh, kw], equal stride and zero
/// padding on both spatial axes.
typedef struct { long n, c, h, w, cout, kh, kw, stride, pad; } ck_conv_shape;

/// 1 when oneDNN 2.x (libdnnl.so.2) could be loaded at run time and has a CPU engine, else 0 (see DNNLConv.c).
int ck_dnnl_available(void);
/// What was loaded ("oneDNN 2.6.3 (OpenMP)") or why not.
const char *ck_dnnl_description(void);
/// y = conv(x, w) + b through oneDNN's direct convolution; plain NCHW/OIHW buffers; `threads` OpenMP threads.
/// Returns 0 on success, nonzero when oneDNN is unavailable or refused the shape (y is then unspecified).
int ck_dnnl_conv2d_forward(const ck_conv_shape *s, const float *x, const float *w, const float *b, float *y, int threads);
/// Gradients of that convolution for the output gradient gy: dx (overwritten; skipped when dx is NULL), dw and db
/// (overwritten). Returns 0 on success, nonzero otherwise (outputs then unspecified).
int ck_dnnl_conv2d_backward(const ck_conv_shape *s, const float *x, const float *w, const float *gy, float *dx, float *dw,
                            float *db, int threads);

#endif
