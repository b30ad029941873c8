// 2-D convolutions through oneDNN (Debian `libdnnl-dev`, the library PyTorch's CPU convolutions run on), loaded at
// run time with dlopen so that neither building nor running ISACKit needs it: without the header at build time, or
// without libdnnl.so.2 at run time, every entry point reports "unavailable" and Learning keeps its im2col + sgemm
// path. Only oneDNN's 2.x C API is used (the version Debian bookworm ships); a 3.x header compiles the stubs.
//
// Layouts: the callers' tensors are plain NCHW (weights OIHW). The primitives are created with format `any`, so
// oneDNN picks its blocked layouts (nChw16c, …) and its direct JIT kernels; plain ↔ blocked reorders run around each
// call, as in PyTorch. Per convolution shape one cache entry holds the three primitives (forward, backward data,
// backward weights), the reorders and the blocked buffers, so a training step creates nothing after its first pass.
//
// Scratchpads are user-managed (one buffer per primitive, owned by its cache entry): in the default "library" mode
// oneDNN 2.x gives each primitive the *creating thread's* thread-local scratchpad, which is freed when that thread
// exits; Dispatch retires idle worker threads, and a primitive created on one and run later on another crashed
// (null pointer in memset, seen in the test suite).
#include "CKernels.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__has_include)
#if __has_include(<oneapi/dnnl/dnnl.h>)
#include <oneapi/dnnl/dnnl.h>
#if DNNL_VERSION_MAJOR == 2
#define CK_DNNL 1
#endif
#endif
#endif

#ifndef CK_DNNL

int ck_dnnl_available(void) { return 0; }
const char *ck_dnnl_description(void) { return "oneDNN unavailable: built without the oneDNN 2.x header (apt-get install libdnnl-dev)"; }
int ck_dnnl_conv2d_forward(const ck_conv_shape *s, const float *x, const float *w, const float *b, float *y, int threads) {
    (void)s; (void)x; (void)w; (void)b; (void)y; (void)threads; return -1;
}
int ck_dnnl_conv2d_backward(const ck_conv_shape *s, const float *x, const float *w, const float *gy, float *dx, float *dw,
                            float *db, int threads) {
    (void)s; (void)x; (void)w; (void)gy; (void)dx; (void)dw; (void)db; (void)threads; return -1;
}

#else

// The oneDNN functions used, resolved from libdnnl.so.2 (their types come from the header).
#define CK_DNNL_FUNCS(X) \
    X(dnnl_version) X(dnnl_engine_create) X(dnnl_stream_create) X(dnnl_stream_wait) X(dnnl_memory_desc_init_by_tag) \
    X(dnnl_memory_desc_equal) X(dnnl_memory_create) X(dnnl_memory_destroy) X(dnnl_memory_set_data_handle) \
    X(dnnl_reorder_primitive_desc_create) X(dnnl_primitive_desc_create) X(dnnl_primitive_desc_destroy) \
    X(dnnl_primitive_desc_query_md) X(dnnl_primitive_create) X(dnnl_primitive_destroy) X(dnnl_primitive_execute) \
    X(dnnl_convolution_forward_desc_init) X(dnnl_convolution_backward_data_desc_init) \
    X(dnnl_convolution_backward_weights_desc_init) X(dnnl_primitive_attr_create) X(dnnl_primitive_attr_destroy) \
    X(dnnl_primitive_attr_set_scratchpad_mode) X(dnnl_memory_desc_get_size)

static struct {
#define CK_DECL(f) __typeof__(f) *f;
    CK_DNNL_FUNCS(CK_DECL)
#undef CK_DECL
    void (*omp_set_num_threads)(int);
} api;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int loaded = 0;
static char description[160] = "oneDNN unavailable";
static dnnl_engine_t engine;
static dnnl_stream_t stream;
static dnnl_primitive_attr_t user_scratchpad;   // attr with dnnl_scratchpad_mode_user, made once in load()

static void load(void) {
    // libgomp reads OMP_WAIT_POLICY when it is loaded here (libdnnl's dependency); the `isac` executable sets it to
    // PASSIVE at start-up (setenv is unsafe here: other threads may be reading the environment).
    void *h = dlopen("libdnnl.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!h) { snprintf(description, sizeof description, "oneDNN unavailable: libdnnl.so.2 not found (apt-get install libdnnl-dev)"); return; }
#define CK_LOAD(f) api.f = (__typeof__(f) *)dlsym(h, #f); if (!api.f) { snprintf(description, sizeof description, "oneDNN unavailable: %s missing", #f); return; }
    CK_DNNL_FUNCS(CK_LOAD)
#undef CK_LOAD
    // libdnnl's OpenMP runtime (libgomp) is a dependency of the handle, so dlsym on it finds omp_set_num_threads.
    api.omp_set_num_threads = (void (*)(int))dlsym(h, "omp_set_num_threads");
    const dnnl_version_t *v = api.dnnl_version();
    if (!v || v->major != 2) { snprintf(description, sizeof description, "oneDNN unavailable: libdnnl.so.2 reports version %d", v ? v->major : -1); return; }
    if (api.dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success ||
        api.dnnl_stream_create(&stream, engine, dnnl_stream_default_flags) != dnnl_success) {
        snprintf(description, sizeof description, "oneDNN unavailable: no CPU engine"); return;
    }
    if (api.dnnl_primitive_attr_create(&user_scratchpad) != dnnl_success ||
        api.dnnl_primitive_attr_set_scratchpad_mode(user_scratchpad, dnnl_scratchpad_mode_user) != dnnl_success) {
        snprintf(description, sizeof description, "oneDNN unavailable: cannot set user scratchpads"); return;
    }
    snprintf(description, sizeof description, "oneDNN %d.%d.%d (%s)", v->major, v->minor, v->patch, v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "other runtime");
    loaded = 1;
}

int ck_dnnl_available(void) { pthread_once(&load_once, load); return loaded; }
const char *ck_dnnl_description(void) { pthread_once(&load_once, load); return description; }

// A caller-owned plain tensor and the layout a primitive wants: `internal` is `user` itself when the layouts agree,
// else a oneDNN-allocated buffer with a reorder (`to` runs user → internal for inputs, internal → user for outputs).
typedef struct { dnnl_memory_t user, internal, scratch; dnnl_primitive_t reorder; int input; } port;

typedef struct {
    ck_conv_shape s;
    int threads;                  // oneDNN partitions the work for the OpenMP thread count at creation time
    dnnl_primitive_desc_t fpd, bpd, wpd;
    dnnl_primitive_t fwd, bwd, bww;
    port fx, fw, fb, fy;          // forward: src, weights, bias, dst
    port bgy, bw, bdx;            // backward data: diff_dst, weights, diff_src
    port wx, wgy, wdw, wdb;       // backward weights: src, diff_dst, diff_weights, diff_bias
    int shared_gy;                // both backward primitives take diff_dst in one layout: reorder it once
    dnnl_memory_t fscratch, bscratch, wscratch;  // user-managed scratchpads of the three primitives (NULL if none)
} entry;

#define CK_CACHE 48
static entry *cache[CK_CACHE];
static int cache_next = 0;

static void port_destroy(port *p) {
    if (p->reorder) api.dnnl_primitive_destroy(p->reorder);
    if (p->scratch) api.dnnl_memory_destroy(p->scratch);
    if (p->internal && p->internal != p->user) api.dnnl_memory_destroy(p->internal);
    if (p->user) api.dnnl_memory_destroy(p->user);
    memset(p, 0, sizeof *p);
}

static void entry_destroy(entry *e) {
    if (!e) return;
    port *ps[] = {&e->fx, &e->fw, &e->fb, &e->fy, &e->bgy, &e->bw, &e->bdx, &e->wx, &e->wgy, &e->wdw, &e->wdb};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) port_destroy(ps[i]);
    if (e->fscratch) api.dnnl_memory_destroy(e->fscratch);
    if (e->bscratch) api.dnnl_memory_destroy(e->bscratch);
    if (e->wscratch) api.dnnl_memory_destroy(e->wscratch);
    if (e->fwd) api.dnnl_primitive_destroy(e->fwd);
    if (e->bwd) api.dnnl_primitive_destroy(e->bwd);
    if (e->bww) api.dnnl_primitive_destroy(e->bww);
    if (e->fpd) api.dnnl_primitive_desc_destroy(e->fpd);
    if (e->bpd) api.dnnl_primitive_desc_destroy(e->bpd);
    if (e->wpd) api.dnnl_primitive_desc_destroy(e->wpd);
    free(e);
}

// The scratchpad a primitive descriptor (made with `user_scratchpad`) asks for, allocated; NULL when it needs none.
static int scratch_make(dnnl_primitive_desc_t pd, dnnl_memory_t *out) {
    *out = NULL;
    const dnnl_memory_desc_t *md = api.dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    if (!md || api.dnnl_memory_desc_get_size(md) == 0) return 0;
    return api.dnnl_memory_create(out, md, engine, DNNL_MEMORY_ALLOCATE) == dnnl_success ? 0 : -1;
}

// input: reorder user → internal; output: internal → user.
static int port_make(port *p, const dnnl_memory_desc_t *user_md, const dnnl_memory_desc_t *want, int input) {
    p->input = input;
    if (api.dnnl_memory_create(&p->user, user_md, engine, DNNL_MEMORY_NONE) != dnnl_success) return -1;
    if (api.dnnl_memory_desc_equal(user_md, want)) { p->internal = p->user; return 0; }
    if (api.dnnl_memory_create(&p->internal, want, engine, DNNL_MEMORY_ALLOCATE) != dnnl_success) return -1;
    dnnl_primitive_desc_t rpd;
    const dnnl_memory_desc_t *from = input ? user_md : want, *to = input ? want : user_md;
    if (api.dnnl_reorder_primitive_desc_create(&rpd, from, engine, to, engine, user_scratchpad) != dnnl_success) return -1;
    if (scratch_make(rpd, &p->scratch)) { api.dnnl_primitive_desc_destroy(rpd); return -1; }
    dnnl_status_t st = api.dnnl_primitive_create(&p->reorder, rpd);
    api.dnnl_primitive_desc_destroy(rpd);
    return st == dnnl_success ? 0 : -1;
}

// Runs the port's reorder, if any, in its direction: user → internal for inputs, internal → user for outputs.
static int port_reorder(port *p) {
    if (!p->reorder) return 0;
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_FROM, p->input ? p->user : p->internal}, {DNNL_ARG_TO, p->input ? p->internal : p->user},
                               {DNNL_ARG_SCRATCHPAD, p->scratch}};
    return api.dnnl_primitive_execute(p->reorder, stream, p->scratch ? 3 : 2, args) == dnnl_success ? 0 : -1;
}

static entry *entry_create(const ck_conv_shape *s) {
    entry *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->s = *s;
    long ho = (s->h + 2 * s->pad - s->kh) / s->stride + 1, wo = (s->w + 2 * s->pad - s->kw) / s->stride + 1;
    dnnl_dims_t sd = {s->n, s->c, s->h, s->w}, wd = {s->cout, s->c, s->kh, s->kw}, bd = {s->cout}, dd = {s->n, s->cout, ho, wo};
    dnnl_dims_t strides = {s->stride, s->stride}, pads = {s->pad, s->pad};
    dnnl_memory_desc_t src, wei, bia, dst, srca, weia, dsta;
    if (api.dnnl_memory_desc_init_by_tag(&src, 4, sd, dnnl_f32, dnnl_nchw) ||
        api.dnnl_memory_desc_init_by_tag(&wei, 4, wd, dnnl_f32, dnnl_oihw) ||
        api.dnnl_memory_desc_init_by_tag(&bia, 1, bd, dnnl_f32, dnnl_x) ||
        api.dnnl_memory_desc_init_by_tag(&dst, 4, dd, dnnl_f32, dnnl_nchw) ||
        api.dnnl_memory_desc_init_by_tag(&srca, 4, sd, dnnl_f32, dnnl_format_tag_any) ||
        api.dnnl_memory_desc_init_by_tag(&weia, 4, wd, dnnl_f32, dnnl_format_tag_any) ||
        api.dnnl_memory_desc_init_by_tag(&dsta, 4, dd, dnnl_f32, dnnl_format_tag_any)) goto fail;
    dnnl_convolution_desc_t fd, bdd, bwd;
    if (api.dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &srca, &weia, &bia, &dsta, strides, pads, pads) ||
        api.dnnl_primitive_desc_create(&e->fpd, &fd, user_scratchpad, engine, NULL) ||
        api.dnnl_convolution_backward_data_desc_init(&bdd, dnnl_convolution_direct, &srca, &weia, &dsta, strides, pads, pads) ||
        api.dnnl_primitive_desc_create(&e->bpd, &bdd, user_scratchpad, engine, e->fpd) ||
        api.dnnl_convolution_backward_weights_desc_init(&bwd, dnnl_convolution_direct, &srca, &weia, &bia, &dsta, strides, pads, pads) ||
        api.dnnl_primitive_desc_create(&e->wpd, &bwd, user_scratchpad, engine, e->fpd)) goto fail;
#define MD(pd, what, i) api.dnnl_primitive_desc_query_md(pd, what, i)
    if (port_make(&e->fx, &src, MD(e->fpd, dnnl_query_src_md, 0), 1) || port_make(&e->fw, &wei, MD(e->fpd, dnnl_query_weights_md, 0), 1) ||
        port_make(&e->fb, &bia, MD(e->fpd, dnnl_query_weights_md, 1), 1) || port_make(&e->fy, &dst, MD(e->fpd, dnnl_query_dst_md, 0), 0) ||
        port_make(&e->bgy, &dst, MD(e->bpd, dnnl_query_diff_dst_md, 0), 1) || port_make(&e->bw, &wei, MD(e->bpd, dnnl_query_weights_md, 0), 1) ||
        port_make(&e->bdx, &src, MD(e->bpd, dnnl_query_diff_src_md, 0), 0) || port_make(&e->wx, &src, MD(e->wpd, dnnl_query_src_md, 0), 1) ||
        port_make(&e->wgy, &dst, MD(e->wpd, dnnl_query_diff_dst_md, 0), 1) || port_make(&e->wdw, &wei, MD(e->wpd, dnnl_query_diff_weights_md, 0), 0) ||
        port_make(&e->wdb, &bia, MD(e->wpd, dnnl_query_diff_weights_md, 1), 0)) goto fail;
    e->shared_gy = api.dnnl_memory_desc_equal(MD(e->bpd, dnnl_query_diff_dst_md, 0), MD(e->wpd, dnnl_query_diff_dst_md, 0));
#undef MD
    if (scratch_make(e->fpd, &e->fscratch) || scratch_make(e->bpd, &e->bscratch) || scratch_make(e->wpd, &e->wscratch)) goto fail;
    if (api.dnnl_primitive_create(&e->fwd, e->fpd) || api.dnnl_primitive_create(&e->bwd, e->bpd) ||
        api.dnnl_primitive_create(&e->bww, e->wpd)) goto fail;
    return e;
fail:
    entry_destroy(e);
    return NULL;
}

static entry *lookup(const ck_conv_shape *s, int threads) {
    for (int i = 0; i < CK_CACHE; i++)
        if (cache[i] && cache[i]->threads == threads && memcmp(&cache[i]->s, s, sizeof *s) == 0) return cache[i];
    entry *e = entry_create(s);
    if (!e) return NULL;
    e->threads = threads;
    entry_destroy(cache[cache_next]);          // oldest slot (round robin)
    cache[cache_next] = e;
    cache_next = (cache_next + 1) % CK_CACHE;
    return e;
}

static void set(port *p, const void *ptr) { api.dnnl_memory_set_data_handle(p->user, (void *)ptr); }

static void threads_for_call(int threads) {
    // OpenMP's thread count is an ICV of the calling thread: set it on every call, from whichever thread calls.
    if (api.omp_set_num_threads && threads > 0) api.omp_set_num_threads(threads);
}

// Takes the lock (held until `release`) and returns the cache entry of the shape, made if needed; NULL when oneDNN
// is unavailable (lock not taken) or refused the shape (lock taken: call release).
static entry *acquire(const ck_conv_shape *s, int threads, int *locked) {
    *locked = 0;
    if (!ck_dnnl_available()) return NULL;
    pthread_mutex_lock(&lock);
    *locked = 1;
    threads_for_call(threads);
    return lookup(s, threads);
}

static void release(int locked) { if (locked) pthread_mutex_unlock(&lock); }

int ck_dnnl_conv2d_forward(const ck_conv_shape *s, const float *x, const float *w, const float *b, float *y, int threads) {
    int rc = -1, locked;
    entry *e = acquire(s, threads, &locked);
    if (e) {
        set(&e->fx, x); set(&e->fw, w); set(&e->fb, b); set(&e->fy, y);
        dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, e->fx.internal}, {DNNL_ARG_WEIGHTS, e->fw.internal},
                                   {DNNL_ARG_BIAS, e->fb.internal}, {DNNL_ARG_DST, e->fy.internal},
                                   {DNNL_ARG_SCRATCHPAD, e->fscratch}};
        rc = port_reorder(&e->fx) || port_reorder(&e->fw) || port_reorder(&e->fb) ||
             api.dnnl_primitive_execute(e->fwd, stream, e->fscratch ? 5 : 4, args) != dnnl_success || port_reorder(&e->fy) ||
             api.dnnl_stream_wait(stream) != dnnl_success ? -1 : 0;
    }
    release(locked);
    return rc;
}

int ck_dnnl_conv2d_backward(const ck_conv_shape *s, const float *x, const float *w, const float *gy, float *dx, float *dw,
                            float *db, int threads) {
    int rc = -1, locked;
    entry *e = acquire(s, threads, &locked);
    if (e) {
        rc = 0;
        if (dx) {
            set(&e->bgy, gy); set(&e->bw, w); set(&e->bdx, dx);
            dnnl_exec_arg_t a[4] = {{DNNL_ARG_DIFF_DST, e->bgy.internal}, {DNNL_ARG_WEIGHTS, e->bw.internal},
                                    {DNNL_ARG_DIFF_SRC, e->bdx.internal}, {DNNL_ARG_SCRATCHPAD, e->bscratch}};
            rc = port_reorder(&e->bgy) || port_reorder(&e->bw) ||
                 api.dnnl_primitive_execute(e->bwd, stream, e->bscratch ? 4 : 3, a) != dnnl_success || port_reorder(&e->bdx) ? -1 : 0;
        }
        if (rc == 0) {
            set(&e->wx, x); set(&e->wgy, gy); set(&e->wdw, dw); set(&e->wdb, db);
            int reuse = dx && e->shared_gy;  // diff_dst is already in bgy.internal from the data pass
            dnnl_exec_arg_t a[5] = {{DNNL_ARG_SRC, e->wx.internal}, {DNNL_ARG_DIFF_DST, reuse ? e->bgy.internal : e->wgy.internal},
                                    {DNNL_ARG_DIFF_WEIGHTS, e->wdw.internal}, {DNNL_ARG_DIFF_BIAS, e->wdb.internal},
                                    {DNNL_ARG_SCRATCHPAD, e->wscratch}};
            rc = port_reorder(&e->wx) || (!reuse && port_reorder(&e->wgy)) ||
                 api.dnnl_primitive_execute(e->bww, stream, e->wscratch ? 5 : 4, a) != dnnl_success || port_reorder(&e->wdw) ||
                 port_reorder(&e->wdb) ? -1 : 0;
        }
        if (api.dnnl_stream_wait(stream) != dnnl_success) rc = -1;
    }
    release(locked);
    return rc;
}

#endif
