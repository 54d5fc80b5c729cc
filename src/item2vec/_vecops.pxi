# Included by _core.pyx.
#
# --- vector primitives and the sigmoid -----------------------------------------
#
# Vector primitives: plain loops that the compiler vectorises (setup.py allows
# reassociation so the sums vectorise too). They beat SciPy's BLAS sdot/saxpy
# at these sizes, where BLAS's per-call overhead dominates. Skip-gram (per-pair
# negatives) and CBOW, dim 100, 2M-token planted corpus, one thread, M tokens/s:
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
    #if defined(__GNUC__) || defined(__clang__)
    #define I2V_PREFETCH(p) __builtin_prefetch((p), 1, 3)
    #else
    #define I2V_PREFETCH(p) ((void)0)
    #endif
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
    void I2V_PREFETCH(const void *p) noexcept nogil
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


cdef inline void prefetch_row(const float *row, int dim) noexcept nogil:
    """Start loading every cache line of a row."""
    cdef int k
    for k in range(0, dim, 16):
        I2V_PREFETCH(row + k)


# Sigmoid and log-sigmoid on [-SIGMOID_MAX, SIGMOID_MAX] come from tables with
# linear interpolation over 4096 intervals of [-8, 8] (largest absolute error,
# measured over float32 inputs: 2.4e-7 for sigma, 6.9e-7 for log sigma);
# outside that range, and for NaN, they are computed exactly. So there is no
# clamp: a pair far in the tail gets its true, tiny gradient.
cdef enum:
    SIGMOID_TABLE_SIZE = 4096

cdef double SIGMOID_MAX = 8.0
cdef double SIGMOID_SCALE = SIGMOID_TABLE_SIZE / (2.0 * SIGMOID_MAX)
cdef float SIGMOID_TABLE[SIGMOID_TABLE_SIZE + 1]
cdef float LOGSIG_TABLE[SIGMOID_TABLE_SIZE + 1]


cdef void _fill_tables() noexcept:
    cdef int i
    cdef double x
    for i in range(SIGMOID_TABLE_SIZE + 1):
        x = (i / SIGMOID_SCALE) - SIGMOID_MAX
        SIGMOID_TABLE[i] = <float>(1.0 / (1.0 + exp(-x)))
        LOGSIG_TABLE[i] = <float>(-log1p(exp(-x)))


_fill_tables()


cdef inline float sigmoid_logsig(float x, float *logsig) noexcept nogil:
    """Return sigma(x) and store log(sigma(x)) in ``logsig``."""
    cdef double t, frac
    cdef int i
    if x > -SIGMOID_MAX and x < SIGMOID_MAX:
        t = (x + SIGMOID_MAX) * SIGMOID_SCALE
        i = <int>t
        # x < SIGMOID_MAX gives t < SIZE, but rounding may still reach SIZE;
        # i + 1 must stay <= SIZE, the last table index.
        if i >= SIGMOID_TABLE_SIZE:
            i = SIGMOID_TABLE_SIZE - 1
        frac = t - i
        logsig[0] = <float>(LOGSIG_TABLE[i] + frac * (LOGSIG_TABLE[i + 1] - LOGSIG_TABLE[i]))
        return <float>(SIGMOID_TABLE[i] + frac * (SIGMOID_TABLE[i + 1] - SIGMOID_TABLE[i]))
    if x > 0:
        logsig[0] = <float>(-log1p(exp(-x)))
        return <float>(1.0 / (1.0 + exp(-x)))
    # x <= -SIGMOID_MAX or NaN (NaN propagates, it never indexes a table)
    logsig[0] = <float>(x - log1p(exp(x)))
    return <float>(exp(x) / (1.0 + exp(x)))


def sigmoid(float x):
    """Sigmoid as the kernels compute it (for tests)."""
    cdef float ls
    cdef float s = sigmoid_logsig(x, &ls)
    return s, ls
