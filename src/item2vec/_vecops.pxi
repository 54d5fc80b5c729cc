# Included by _core.pyx (the baseline and AVX2 builds), before _core_body.pxi.
#
# --- vector primitives: plain loops ---------------------------------------------
#
# Every kernel build provides the same primitives, which the shared body calls:
#
# - vaxpy(n, a, x, y): y += a * x, one row;
# - score_rows(n, x, rows, n_rows, out): out[r] = x . rows[r];
# - update_rows(n, x, acc, rows, n_rows, g): acc += sum_r g[r] * rows[r] (old
#   values), then rows[r] += g[r] * x; the rows are distinct.
#
# Here they are plain loops that the compiler vectorises (setup.py allows
# reassociation so the sums vectorise too). They beat SciPy's BLAS sdot/saxpy
# at these sizes, where BLAS's per-call overhead dominates (the ``blas`` build,
# _vecops_blas.pxi, keeps the comparison measurable: benchmarks/README.md,
# "Kernel builds"). Skip-gram (per-pair negatives) and CBOW, dim 100, 2M-token
# planted corpus, one thread, M tokens/s, first measured with one row per call:
# BLAS 0.150 / 0.576; one-row loops 0.148 / 0.606 (SSE2), 0.171 / 1.040
# (AVX2+FMA). Scoring and updating all rows of a prediction together (the
# i2v_dot4 / i2v_update4 helpers below) with noise rows fetched one prediction
# ahead then gave another 1.8x (skip-gram) and 1.4x (CBOW).

cdef inline void vaxpy(int n, float a, const float *x, float *y) noexcept nogil:
    cdef int k
    for k in range(n):
        y[k] += a * x[k]


cdef extern from *:
    """
    /* Several output rows against one input x at once. The rows of one
       prediction are distinct (duplicates are merged before the update), and
       x, acc and the rows live in different buffers, hence restrict: it lets
       the compiler vectorise without run-time overlap checks. Scoring four
       rows in one pass over x gives four independent sums (instruction-level
       parallelism) and loads x once; the update reads and writes acc once for
       all rows instead of once per row. */
    #if defined(_MSC_VER)
    #define I2V_RESTRICT __restrict
    #else
    #define I2V_RESTRICT __restrict__
    #endif
    static inline void i2v_dot4(int n, const float *I2V_RESTRICT x,
            const float *I2V_RESTRICT a, const float *I2V_RESTRICT b,
            const float *I2V_RESTRICT c, const float *I2V_RESTRICT d, float *out) {
        float sa = 0.0f, sb = 0.0f, sc = 0.0f, sd = 0.0f;
        int k;
        for (k = 0; k < n; k++) {
            float xk = x[k];
            sa += xk * a[k]; sb += xk * b[k]; sc += xk * c[k]; sd += xk * d[k];
        }
        out[0] = sa; out[1] = sb; out[2] = sc; out[3] = sd;
    }
    static inline void i2v_dot2(int n, const float *I2V_RESTRICT x,
            const float *I2V_RESTRICT a, const float *I2V_RESTRICT b, float *out) {
        float sa = 0.0f, sb = 0.0f;
        int k;
        for (k = 0; k < n; k++) {
            float xk = x[k];
            sa += xk * a[k]; sb += xk * b[k];
        }
        out[0] = sa; out[1] = sb;
    }
    static inline float i2v_dot1(int n, const float *I2V_RESTRICT x,
            const float *I2V_RESTRICT a) {
        float s = 0.0f;
        int k;
        for (k = 0; k < n; k++) s += x[k] * a[k];
        return s;
    }
    /* acc += sum_r g[r] * row_r (old values) and row_r += g[r] * x */
    static inline void i2v_update4(int n, const float *I2V_RESTRICT x, float *I2V_RESTRICT acc,
            float *I2V_RESTRICT a, float *I2V_RESTRICT b, float *I2V_RESTRICT c,
            float *I2V_RESTRICT d, const float *g) {
        const float ga = g[0], gb = g[1], gc = g[2], gd = g[3];
        int k;
        for (k = 0; k < n; k++) {
            float xk = x[k], va = a[k], vb = b[k], vc = c[k], vd = d[k];
            acc[k] += (ga * va + gb * vb) + (gc * vc + gd * vd);
            a[k] = va + ga * xk; b[k] = vb + gb * xk; c[k] = vc + gc * xk; d[k] = vd + gd * xk;
        }
    }
    static inline void i2v_update2(int n, const float *I2V_RESTRICT x, float *I2V_RESTRICT acc,
            float *I2V_RESTRICT a, float *I2V_RESTRICT b, const float *g) {
        const float ga = g[0], gb = g[1];
        int k;
        for (k = 0; k < n; k++) {
            float xk = x[k], va = a[k], vb = b[k];
            acc[k] += ga * va + gb * vb;
            a[k] = va + ga * xk; b[k] = vb + gb * xk;
        }
    }
    static inline void i2v_update1(int n, const float *I2V_RESTRICT x, float *I2V_RESTRICT acc,
            float *I2V_RESTRICT a, float g) {
        int k;
        for (k = 0; k < n; k++) {
            float va = a[k];
            acc[k] += g * va;
            a[k] = va + g * x[k];
        }
    }
    """
    void dot4 "i2v_dot4"(int n, const float *x, const float *a, const float *b,
                         const float *c, const float *d, float *out) noexcept nogil
    void dot2 "i2v_dot2"(int n, const float *x, const float *a, const float *b,
                         float *out) noexcept nogil
    float dot1 "i2v_dot1"(int n, const float *x, const float *a) noexcept nogil
    void update4 "i2v_update4"(int n, const float *x, float *acc, float *a, float *b,
                               float *c, float *d, const float *g) noexcept nogil
    void update2 "i2v_update2"(int n, const float *x, float *acc, float *a, float *b,
                               const float *g) noexcept nogil
    void update1 "i2v_update1"(int n, const float *x, float *acc, float *a,
                               float g) noexcept nogil


cdef inline void score_rows(int n, const float *x, float **rows, int n_rows,
                            float *out) noexcept nogil:
    """out[r] = x . rows[r] for the n_rows rows, four rows per pass over x."""
    cdef int r = 0
    while r + 4 <= n_rows:
        dot4(n, x, rows[r], rows[r + 1], rows[r + 2], rows[r + 3], out + r)
        r += 4
    if r + 2 <= n_rows:
        dot2(n, x, rows[r], rows[r + 1], out + r)
        r += 2
    if r < n_rows:
        out[r] = dot1(n, x, rows[r])


cdef inline void update_rows(int n, const float *x, float *acc, float **rows, int n_rows,
                             const float *g) noexcept nogil:
    """acc += sum of g[r] * rows[r] (old values), then rows[r] += g[r] * x (distinct rows)."""
    cdef int r = 0
    while r + 4 <= n_rows:
        update4(n, x, acc, rows[r], rows[r + 1], rows[r + 2], rows[r + 3], g + r)
        r += 4
    if r + 2 <= n_rows:
        update2(n, x, acc, rows[r], rows[r + 1], g + r)
        r += 2
    if r < n_rows:
        update1(n, x, acc, rows[r], g[r])
