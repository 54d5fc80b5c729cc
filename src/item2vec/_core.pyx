# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""Negative-sampling training loops (skip-gram and CBOW), all without the GIL.

One call of :func:`train_chunk` trains a contiguous run of sequences of a CSR
corpus. Python only runs between calls (learning-rate schedule, progress,
threads), so the interpreter never sits inside the per-token work.

Indexing in the loops is unchecked. Every index is either validated once at
the start of the call (codes < n_items, offsets monotone and inside ``codes``,
table lengths equal to ``n_items``) or derived from validated values; the
comments next to the loops give the reasoning.
"""

from libc.math cimport exp, fabs, log1p
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memset

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
    /* A flag another thread sets; volatile so every read goes to memory. */
    static inline int i2v_read_flag(const volatile int *flag) { return *flag; }
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
    /* 1 when all of x[0..16) are <= thr: the group holds no candidate.
       The largest value comes from a tree of packed max instructions, which
       would let a NaN lane hide the lane it is compared with; so a sum tree
       runs beside it, NaN whenever any lane is, and such a group is looked
       at lane by lane (where NaN is skipped and nothing is hidden). */
    static inline int i2v_all_below16(const float *x, float thr) {
        float m[8], s[8];
        int i;
        for (i = 0; i < 8; i++) {
            m[i] = x[i] > x[i + 8] ? x[i] : x[i + 8];
            s[i] = x[i] + x[i + 8];
        }
        for (i = 0; i < 4; i++) {
            m[i] = m[i] > m[i + 4] ? m[i] : m[i + 4];
            s[i] = s[i] + s[i + 4];
        }
        for (i = 0; i < 2; i++) {
            m[i] = m[i] > m[i + 2] ? m[i] : m[i + 2];
            s[i] = s[i] + s[i + 2];
        }
        m[0] = m[0] > m[1] ? m[0] : m[1];
        s[0] = s[0] + s[1];
        return m[0] <= thr && s[0] == s[0];
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
    int all_below16 "i2v_all_below16"(const float *x, float thr) noexcept nogil
    int read_flag "i2v_read_flag"(const int *flag) noexcept nogil


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


# --- random numbers: xorshift64* seeded through splitmix64 --------------------

cdef inline uint64_t splitmix64(uint64_t x) noexcept nogil:
    x += 0x9E3779B97F4A7C15ULL
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL
    return x ^ (x >> 31)


cdef inline uint64_t rng_next(uint64_t *state) noexcept nogil:
    cdef uint64_t x = state[0]
    x ^= x >> 12
    x ^= x << 25
    x ^= x >> 27
    state[0] = x
    return x * 0x2545F4914F6CDD1DULL


cdef inline uint32_t rng_below(uint64_t *state, uint32_t n) noexcept nogil:
    """Uniform integer in [0, n) by multiply-shift of the top 32 bits."""
    return <uint32_t>(((rng_next(state) >> 32) * <uint64_t>n) >> 32)


cdef inline float rng_unit(uint64_t *state) noexcept nogil:
    """Uniform float in [0, 1) from the top 24 bits."""
    return <float>(rng_next(state) >> 40) * (1.0 / 16777216.0)


# --- training state shared by the helpers of one call -------------------------

cdef struct Trainer:
    float *syn0
    float *syn1
    int dim
    int negative
    uint32_t n_items
    const uint64_t *noise_packed  # threshold << 32 | alias per item: one miss per draw
    uint64_t rng
    float *neu1e        # accumulated gradient for the input side, dim floats
    float *hidden       # CBOW input vector, dim floats
    int32_t *noise      # the current noise items, negative ints
    int32_t *upcoming   # the next noise items, drawn (and their rows fetched) ahead
    uint64_t noise_rng  # noise items come from their own stream (see sample_noise)
    float **rows        # output rows of the current prediction, negative + 1
    float *grad         # their gradients (scores first), negative + 1 (+ 3 spare)
    double loss
    int64_t n_events


cdef inline uint64_t noise_seed(uint64_t seed) noexcept nogil:
    """State of the noise stream of a call seeded with ``seed`` (never zero)."""
    return splitmix64(seed ^ 0x6E6F6973655F7273ULL) | 1


cdef inline void pack_noise_table(const uint32_t *threshold, const int32_t *alias,
                                  Py_ssize_t n_items, uint64_t *packed) noexcept nogil:
    """The alias table as one 64-bit entry per item, ``threshold << 32 | alias``."""
    cdef Py_ssize_t j
    for j in range(n_items):
        packed[j] = ((<uint64_t>threshold[j]) << 32) | <uint32_t>alias[j]


cdef inline int32_t draw_noise(Trainer *tr) noexcept nogil:
    """One draw from the noise distribution by the alias method, O(1).

    k < n_items by the multiply-shift; every alias < n_items is checked at entry.
    """
    cdef uint64_t r = rng_next(&tr.noise_rng)
    cdef uint32_t k = <uint32_t>(((r >> 32) * <uint64_t>tr.n_items) >> 32)
    cdef uint64_t entry = tr.noise_packed[k]
    if <uint32_t>(r & 0xFFFFFFFFULL) < <uint32_t>(entry >> 32):
        return <int32_t>k
    return <int32_t>(entry & 0xFFFFFFFFULL)


cdef inline void prefetch_row(const float *row, int dim) noexcept nogil:
    """Start loading every cache line of a row."""
    cdef int k
    for k in range(0, dim, 16):
        I2V_PREFETCH(row + k)


cdef inline void fill_upcoming(Trainer *tr) noexcept nogil:
    cdef int d
    for d in range(tr.negative):
        tr.upcoming[d] = draw_noise(tr)
        prefetch_row(tr.syn1 + <int64_t>tr.upcoming[d] * tr.dim, tr.dim)


cdef inline void draw_negatives(Trainer *tr) noexcept nogil:
    """Make the upcoming noise items current and draw the next ones.

    The rows of a set of noise items are fetched one prediction before they
    are used, so their cache misses overlap with useful work. The items are
    the same, in the same order, as without the look-ahead.
    """
    cdef int32_t *swap = tr.noise
    tr.noise = tr.upcoming
    tr.upcoming = swap
    fill_upcoming(tr)


cdef inline void train_outputs(Trainer *tr, const float *x, int32_t target,
                               float alpha) noexcept nogil:
    """Score input ``x`` against ``target`` (label 1) and the noise items in ``tr.noise``.

    All rows of the prediction are scored before any is updated (as word2vec
    does whenever the rows are distinct); a noise item equal to the target is
    skipped, as in word2vec, and one drawn twice gets both updates at once.
    Updates the output rows in place and adds the input-side gradient to
    ``tr.neu1e``; the caller applies it.
    """
    cdef int n = tr.dim, d, q, r, found, n_rows = 1
    cdef int32_t item
    cdef float **rows = tr.rows
    cdef float *g = tr.grad
    cdef float s, logsig
    rows[0] = tr.syn1 + <int64_t>target * n
    for d in range(tr.negative):
        item = tr.noise[d]
        if item != target:
            rows[n_rows] = tr.syn1 + <int64_t>item * n
            n_rows += 1
    # scores, four rows per pass; n_rows <= negative + 1, the size of rows and g
    r = 0
    while r + 4 <= n_rows:
        dot4(n, x, rows[r], rows[r + 1], rows[r + 2], rows[r + 3], g + r)
        r += 4
    if r + 2 <= n_rows:
        dot2(n, x, rows[r], rows[r + 1], g + r)
        r += 2
    if r < n_rows:
        g[r] = dot1(n, x, rows[r])
    # gradients: label 1 first, g = alpha * (1 - sigma(f)); then label 0,
    # g = -alpha * sigma(f) = -alpha * (1 - sigma(-f))
    s = sigmoid_logsig(g[0], &logsig)
    g[0] = alpha * (1.0 - s)
    tr.loss -= logsig
    for r in range(1, n_rows):
        s = sigmoid_logsig(-g[r], &logsig)
        g[r] = -alpha * (1.0 - s)
        tr.loss -= logsig
    # merge repeated noise items into their first occurrence (restrict needs distinct rows)
    r = 2
    while r < n_rows:
        found = 0
        for q in range(1, r):
            if rows[q] == rows[r]:
                found = q
                break
        if found:
            # move the last row into slot r and look at slot r again
            g[found] += g[r]
            n_rows -= 1
            rows[r] = rows[n_rows]
            g[r] = g[n_rows]
        else:
            r += 1
    r = 0
    while r + 4 <= n_rows:
        update4(n, x, tr.neu1e, rows[r], rows[r + 1], rows[r + 2], rows[r + 3], g + r)
        r += 4
    if r + 2 <= n_rows:
        update2(n, x, tr.neu1e, rows[r], rows[r + 1], g + r)
        r += 2
    if r < n_rows:
        update1(n, x, tr.neu1e, rows[r], g[r])
    tr.n_events += 1


cdef inline void skipgram_contexts(Trainer *tr, const int32_t *seq, Py_ssize_t i,
                                   const Py_ssize_t *ctx, const float *scale, Py_ssize_t n_ctx,
                                   bint shared, float alpha) noexcept nogil:
    """Each context item's input vector (positions ``ctx``) predicts seq[i].

    This is word2vec's order (context predicts centre). With ``shared``, one
    set of noise items serves every context of the centre (Ji et al. 2016),
    so the same few output rows stay in cache for the whole window; otherwise
    every pair draws its own. ``scale`` (or NULL for all ones) multiplies the
    learning rate of each pair.
    """
    cdef int n = tr.dim
    cdef Py_ssize_t c
    cdef float *l1
    if shared:
        draw_negatives(tr)
    for c in range(n_ctx):
        if not shared:
            draw_negatives(tr)
        l1 = tr.syn0 + <int64_t>seq[ctx[c]] * n
        memset(tr.neu1e, 0, n * sizeof(float))
        train_outputs(tr, l1, seq[i], alpha if scale == NULL else alpha * scale[c])
        vaxpy(n, 1.0, tr.neu1e, l1)


cdef inline void cbow_contexts(Trainer *tr, const int32_t *seq, Py_ssize_t i,
                               const Py_ssize_t *ctx, const float *scale, Py_ssize_t n_ctx,
                               bint cbow_mean, float alpha) noexcept nogil:
    """The sum (or mean) of the context vectors (positions ``ctx``) predicts seq[i].

    As in word2vec, every context vector then receives the whole input-side
    gradient, whether the hidden layer was a sum or a mean. With ``scale``
    (per-context weights), the hidden layer is the weighted sum (or weighted
    mean) and each context receives the gradient times its weight.
    """
    cdef int n = tr.dim, k
    cdef float norm, share
    cdef double total = 0.0, top
    cdef Py_ssize_t c
    if n_ctx == 0:
        return
    memset(tr.hidden, 0, n * sizeof(float))
    if scale == NULL:
        for c in range(n_ctx):
            vaxpy(n, 1.0, tr.syn0 + <int64_t>seq[ctx[c]] * n, tr.hidden)
        if cbow_mean and n_ctx > 1:
            norm = <float>(1.0 / n_ctx)
            for k in range(n):
                tr.hidden[k] *= norm
    elif not cbow_mean:
        for c in range(n_ctx):
            vaxpy(n, scale[c], tr.syn0 + <int64_t>seq[ctx[c]] * n, tr.hidden)
    else:
        # weighted mean with weights relative to the largest, so the sum of
        # weights is >= 1 and its inverse finite however tiny they all are
        # (and equal weights give exactly the plain mean)
        top = scale[0]
        for c in range(1, n_ctx):
            if scale[c] > top:
                top = scale[c]
        for c in range(n_ctx):
            share = <float>(scale[c] / top)
            vaxpy(n, share, tr.syn0 + <int64_t>seq[ctx[c]] * n, tr.hidden)
            total += share
        norm = <float>(1.0 / total)
        for k in range(n):
            tr.hidden[k] *= norm
    memset(tr.neu1e, 0, n * sizeof(float))
    draw_negatives(tr)
    train_outputs(tr, tr.hidden, seq[i], alpha)
    for c in range(n_ctx):
        vaxpy(n, 1.0 if scale == NULL else scale[c], tr.neu1e,
              tr.syn0 + <int64_t>seq[ctx[c]] * n)


def train_chunk(
    float[:, ::1] syn0,
    float[:, ::1] syn1neg,
    const int32_t[::1] codes,
    const int64_t[::1] offsets,
    Py_ssize_t seq_begin,
    Py_ssize_t seq_end,
    const float[::1] keep_prob,
    const uint32_t[::1] noise_threshold,
    const int32_t[::1] noise_alias,
    bint sg,
    bint cbow_mean,
    int window,
    bint shrink_windows,
    int negative,
    bint shared_negatives,
    double alpha_begin,
    double alpha_end,
    uint64_t seed,
    const int[::1] stop=None,
    const float[::1] weights=None,
    const double[::1] times=None,
    double time_decay=0.0,
    double time_window=0.0,
    int session_contexts=0,
):
    """Train on sequences ``seq_begin <= s < seq_end`` of a CSR corpus.

    Parameters
    ----------
    syn0, syn1neg : float32 arrays of shape (n_items, dim), C-contiguous
        Input and output weights, updated in place (shared between threads).
    codes, offsets : int32 and int64 arrays
        The corpus: sequence ``s`` is ``codes[offsets[s]:offsets[s + 1]]``.
    seq_begin, seq_end : int
        The sequences to train on.
    keep_prob : float32 array of shape (n_items,) or (0,)
        Probability of keeping each item (frequent-item subsampling); empty
        means keep everything.
    noise_threshold, noise_alias : uint32 and int32 arrays of shape (n_items,)
        Alias table of the noise distribution: draw k uniformly, keep it if a
        uniform 32-bit number is below ``noise_threshold[k]``, else take
        ``noise_alias[k]``.
    sg, cbow_mean, window, shrink_windows, negative, shared_negatives
        As in :class:`item2vec.Item2Vec`.
    alpha_begin, alpha_end : float
        Learning rate at the first and after the last raw token of the chunk;
        interpolated linearly in between.
    seed : int
        Seed of this call's random numbers.
    stop : int32 array of shape (1,), optional
        Checked before every sequence; once another thread sets it to a
        non-zero value the call returns early (interruption).
    weights : float32 array of shape (n_codes,), optional
        Per-token weights (> 0): a (context, centre) pair's learning rate is
        multiplied by the product of their weights (CBOW: the centre's weight
        scales the event, each context's weights its share of the hidden layer).
    times : float64 array of shape (n_codes,), optional
        Per-token times, used by ``time_decay`` and ``time_window``.
    time_decay : float
        If > 0, a pair ``dt`` apart in time is further weighted by
        ``exp(-|dt| / time_decay)``.
    time_window : float
        If > 0, contexts more than ``time_window`` apart in time are skipped.
    session_contexts : int
        If > 0, contexts come from the whole sequence instead of a window:
        every other item when there are at most ``session_contexts`` of them,
        else ``session_contexts`` positions drawn uniformly (with replacement)
        from the others, so the cost per token stays bounded.

    Returns
    -------
    raw_tokens, kept_tokens, n_events, loss : int, int, int, float
        Tokens read, tokens kept after subsampling, prediction events (pairs
        for skip-gram, centre items for CBOW) and their summed loss.
    """
    cdef Py_ssize_t n_items = syn0.shape[0]
    cdef int dim = <int>syn0.shape[1]
    if syn1neg.shape[0] != n_items or syn1neg.shape[1] != dim:
        raise ValueError("syn1neg must have the shape of syn0")
    if n_items < 1 or dim < 1:
        raise ValueError("weights must have at least one row and one column")
    if n_items >= 2147483647:
        raise ValueError("too many items for int32 codes")
    if noise_threshold.shape[0] != n_items or noise_alias.shape[0] != n_items:
        raise ValueError("noise tables must have one entry per item")
    if keep_prob.shape[0] != 0 and keep_prob.shape[0] != n_items:
        raise ValueError("keep_prob must be empty or have one entry per item")
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    if negative < 0:
        raise ValueError(f"negative must be >= 0, got {negative}")
    if seq_begin < 0 or seq_end < seq_begin or seq_end > offsets.shape[0] - 1:
        raise ValueError("sequence range outside offsets")
    if weights is not None and weights.shape[0] != codes.shape[0]:
        raise ValueError("weights must have one entry per code")
    if times is not None and times.shape[0] != codes.shape[0]:
        raise ValueError("times must have one entry per code")
    if (time_decay > 0 or time_window > 0) and times is None:
        raise ValueError("time_decay and time_window need times")
    if session_contexts < 0:
        raise ValueError(f"session_contexts must be >= 0, got {session_contexts}")

    cdef Py_ssize_t s, t, i, j, n, lo, hi, reach, max_len = 0
    cdef int64_t start, end
    cdef int32_t w
    cdef int bad = 0
    cdef Py_ssize_t n_codes = codes.shape[0]

    with nogil:
        # Validate everything the unchecked loops below rely on.
        for j in range(n_items):
            if noise_alias[j] < 0 or noise_alias[j] >= n_items:
                bad = 1
        if offsets[seq_begin] < 0 or offsets[seq_end] > n_codes:
            bad = 2
        for s in range(seq_begin, seq_end):
            start = offsets[s]
            end = offsets[s + 1]
            if end < start:
                bad = 2
                break
            if end - start > max_len:
                max_len = end - start
        if bad == 0:
            # offsets monotone and inside codes, so these reads are in bounds
            for t in range(offsets[seq_begin], offsets[seq_end]):
                if codes[t] < 0 or codes[t] >= n_items:
                    bad = 3
                    break
    if bad == 1:
        raise ValueError("noise_alias holds an index outside [0, n_items)")
    if bad == 2:
        raise ValueError("offsets must be non-decreasing and inside codes")
    if bad == 3:
        raise ValueError(f"codes must lie in [0, {n_items})")

    cdef Trainer tr
    tr.syn0 = &syn0[0, 0]
    tr.syn1 = &syn1neg[0, 0]
    tr.dim = dim
    tr.negative = negative
    tr.n_items = <uint32_t>n_items
    tr.rng = splitmix64(seed) | 1  # xorshift state must be non-zero
    tr.noise_rng = noise_seed(seed)
    tr.loss = 0.0
    tr.n_events = 0

    cdef bint subsample = keep_prob.shape[0] != 0
    cdef int no_stop = 0
    if stop is not None and stop.shape[0] < 1:
        raise ValueError("stop must hold one flag")
    cdef const int *stop_flag = &stop[0] if stop is not None else &no_stop
    cdef bint weighted = weights is not None
    cdef bint timed = time_decay > 0 or time_window > 0
    cdef bint scaled = weighted or timed
    cdef bint session = session_contexts > 0
    # contexts per centre: at most 2 * window, or session_contexts
    cdef Py_ssize_t max_ctx = session_contexts if session else 2 * <Py_ssize_t>window
    cdef int32_t *buf = <int32_t *>malloc((max_len + 1) * sizeof(int32_t))
    cdef float *wbuf = <float *>malloc((max_len + 1) * sizeof(float)) if weighted else NULL
    cdef double *tbuf = <double *>malloc((max_len + 1) * sizeof(double)) if timed else NULL
    cdef Py_ssize_t *ctx = <Py_ssize_t *>malloc((max_ctx + 1) * sizeof(Py_ssize_t))
    cdef float *cscale = <float *>malloc((max_ctx + 1) * sizeof(float)) if scaled else NULL
    tr.neu1e = <float *>malloc(dim * sizeof(float))
    tr.hidden = <float *>malloc(dim * sizeof(float))
    cdef uint64_t *packed = <uint64_t *>malloc(n_items * sizeof(uint64_t))
    tr.noise_packed = packed
    tr.noise = <int32_t *>malloc((negative + 1) * sizeof(int32_t))
    tr.upcoming = <int32_t *>malloc((negative + 1) * sizeof(int32_t))
    tr.rows = <float **>malloc((negative + 1) * sizeof(float *))
    tr.grad = <float *>malloc((negative + 4) * sizeof(float))
    if (buf == NULL or ctx == NULL or tr.neu1e == NULL or tr.hidden == NULL
            or packed == NULL or tr.noise == NULL or tr.upcoming == NULL
            or tr.rows == NULL or tr.grad == NULL
            or (weighted and wbuf == NULL) or (timed and tbuf == NULL)
            or (scaled and cscale == NULL)):
        free(buf)
        free(wbuf)
        free(tbuf)
        free(ctx)
        free(cscale)
        free(tr.neu1e)
        free(tr.hidden)
        free(packed)
        free(tr.noise)
        free(tr.upcoming)
        free(tr.rows)
        free(tr.grad)
        raise MemoryError()

    with nogil:
        pack_noise_table(&noise_threshold[0], &noise_alias[0], n_items, packed)
    fill_upcoming(&tr)
    cdef int64_t raw_total = offsets[seq_end] - offsets[seq_begin]
    cdef int64_t raw_done = 0, kept = 0
    cdef double slope = (alpha_end - alpha_begin) / raw_total if raw_total > 0 else 0.0
    cdef double seq_step, dt, pair
    cdef float alpha, centre_alpha
    cdef Py_ssize_t c, n_ctx, m

    with nogil:
        for s in range(seq_begin, seq_end):
            if read_flag(stop_flag):
                break
            start = offsets[s]
            end = offsets[s + 1]
            n = 0
            # end - start <= max_len, so n <= max_len stays inside buf (and
            # wbuf, tbuf); weights and times have one entry per code, like t
            for t in range(start, end):
                w = codes[t]
                if subsample and keep_prob[w] < 1.0:
                    if rng_unit(&tr.rng) >= keep_prob[w]:
                        continue
                buf[n] = w
                if weighted:
                    wbuf[n] = weights[t]
                if timed:
                    tbuf[n] = times[t]
                n += 1
            kept += n
            seq_step = (end - start) / <double>n if n > 0 else 0.0
            for i in range(n):
                alpha = <float>(alpha_begin + slope * (raw_done + i * seq_step))
                if i + 1 < n:  # the next centre's output row, needed by the next step
                    prefetch_row(tr.syn1 + <int64_t>buf[i + 1] * dim, dim)
                # gather the context positions: each is in [0, n) and != i, and
                # there are at most max_ctx of them (the size of ctx and cscale)
                n_ctx = 0
                if session:
                    if n - 1 <= session_contexts:
                        for j in range(n):
                            if j != i:
                                ctx[n_ctx] = j
                                n_ctx += 1
                    else:
                        # n - 1 > session_contexts >= 1, so the draw is in [0, n - 1)
                        while n_ctx < session_contexts:
                            j = <Py_ssize_t>rng_below(&tr.rng, <uint32_t>(n - 1))
                            ctx[n_ctx] = j + 1 if j >= i else j
                            n_ctx += 1
                else:
                    reach = window
                    if shrink_windows:
                        reach = window - <Py_ssize_t>rng_below(&tr.rng, <uint32_t>window)
                    # 0 <= lo <= i < hi <= n and hi - lo <= 2 * reach + 1
                    lo = i - reach if i > reach else 0
                    hi = i + reach + 1 if i + reach + 1 < n else n
                    for j in range(lo, hi):
                        if j != i:
                            ctx[n_ctx] = j
                            n_ctx += 1
                centre_alpha = alpha
                if scaled:
                    # keep the contexts with a positive weight, compacting in place
                    m = 0
                    for c in range(n_ctx):
                        j = ctx[c]
                        pair = wbuf[j] if weighted else 1.0
                        if timed:
                            dt = fabs(tbuf[i] - tbuf[j])
                            if time_window > 0 and dt > time_window:
                                continue
                            if time_decay > 0:
                                pair *= exp(-dt / time_decay)
                        if sg and weighted:
                            pair *= wbuf[i]
                        # filter on the stored float: a weight that rounds to 0 is no pair
                        cscale[m] = <float>pair
                        if cscale[m] > 0:
                            ctx[m] = j
                            m += 1
                    n_ctx = m
                    if weighted and not sg:
                        centre_alpha = alpha * wbuf[i]
                if n_ctx == 0:
                    continue
                if sg:
                    skipgram_contexts(&tr, buf, i, ctx, cscale, n_ctx, shared_negatives, alpha)
                else:
                    cbow_contexts(&tr, buf, i, ctx, cscale, n_ctx, cbow_mean, centre_alpha)
            raw_done += end - start

    free(buf)
    free(wbuf)
    free(tbuf)
    free(ctx)
    free(cscale)
    free(tr.neu1e)
    free(tr.hidden)
    free(packed)
    free(tr.noise)
    free(tr.upcoming)
    free(tr.rows)
    free(tr.grad)
    return raw_total, kept, tr.n_events, tr.loss


def build_alias(const double[::1] prob):
    """Alias table (Vose's method) of a probability vector that sums to 1.

    Returns ``(threshold, alias)``: uint32 and int32 arrays such that drawing
    k uniformly, keeping it when a uniform 32-bit number is below
    ``threshold[k]`` and taking ``alias[k]`` otherwise, samples ``prob``.
    """
    import numpy as np

    cdef Py_ssize_t n = prob.shape[0]
    if n < 1:
        raise ValueError("prob must not be empty")
    threshold_arr = np.empty(n, dtype=np.uint32)
    alias_arr = np.empty(n, dtype=np.int32)
    scaled_arr = np.empty(n, dtype=np.float64)
    stack_arr = np.empty(n, dtype=np.int64)
    cdef uint32_t[::1] threshold = threshold_arr
    cdef int32_t[::1] alias = alias_arr
    cdef double[::1] scaled = scaled_arr
    # small items grow from the front of one buffer, large ones from the back
    cdef int64_t[::1] stack = stack_arr
    cdef Py_ssize_t i, n_small = 0, n_large = 0
    cdef int64_t small, large
    cdef double q
    with nogil:
        for i in range(n):
            scaled[i] = prob[i] * n
            alias[i] = <int32_t>i
            if scaled[i] < 1.0:
                stack[n_small] = i
                n_small += 1
            else:
                stack[n - 1 - n_large] = i
                n_large += 1
        # n_small + n_large <= n throughout, so the two ends never overlap
        while n_small > 0 and n_large > 0:
            n_small -= 1
            small = stack[n_small]
            large = stack[n - n_large]
            n_large -= 1
            q = scaled[small]
            threshold[small] = <uint32_t>(q * 4294967296.0) if q > 0 else 0
            alias[small] = <int32_t>large
            scaled[large] = scaled[large] + q - 1.0
            if scaled[large] < 1.0:
                stack[n_small] = large
                n_small += 1
            else:
                n_large += 1
                stack[n - n_large] = large
        # what is left has probability 1 (up to rounding): always keep itself
        for i in range(n_small):
            threshold[stack[i]] = 0xFFFFFFFFU
            alias[stack[i]] = <int32_t>stack[i]
        for i in range(n_large):
            threshold[stack[n - 1 - i]] = 0xFFFFFFFFU
            alias[stack[n - 1 - i]] = <int32_t>stack[n - 1 - i]
    return threshold_arr, alias_arr


def sample_noise(const uint32_t[::1] noise_threshold, const int32_t[::1] noise_alias,
                 Py_ssize_t n_draws, uint64_t seed):
    """``n_draws`` items drawn as the kernels draw noise items (for tests)."""
    import numpy as np

    cdef Py_ssize_t n_items = noise_threshold.shape[0], i
    if n_items < 1 or noise_alias.shape[0] != n_items:
        raise ValueError("noise tables must be non-empty and of equal length")
    for i in range(n_items):
        if noise_alias[i] < 0 or noise_alias[i] >= n_items:
            raise ValueError("noise_alias holds an index outside [0, n_items)")
    out_arr = np.empty(n_draws, dtype=np.int32)
    packed_arr = np.empty(n_items, dtype=np.uint64)
    cdef int32_t[::1] out = out_arr
    cdef uint64_t[::1] packed = packed_arr
    cdef Trainer tr
    tr.n_items = <uint32_t>n_items
    tr.noise_rng = noise_seed(seed)
    tr.noise_packed = &packed[0]
    with nogil:
        pack_noise_table(&noise_threshold[0], &noise_alias[0], n_items, &packed[0])
        for i in range(n_draws):
            out[i] = draw_noise(&tr)
    return out_arr


# --- exact top-k selection over blocks of scores -------------------------------

cdef enum:
    SCAN_LANES = 16


def topk_merge(const float[:, ::1] scores, int64_t col0, float[:, ::1] best,
               int64_t[:, ::1] best_idx):
    """Merge a block of scores into running top-k lists, one per row.

    ``best[r]`` holds row ``r``'s best scores so far in decreasing order
    (-inf where empty) and ``best_idx[r]`` their columns; column ``c`` of
    ``scores`` is global column ``col0 + c``. A score enters only if it beats
    the current k-th best, so after the first blocks nearly every score costs
    one comparison. Ties keep the earlier column first; NaN never enters.
    """
    cdef Py_ssize_t n_rows = scores.shape[0], n_cols = scores.shape[1]
    cdef Py_ssize_t k = best.shape[1]
    if best.shape[0] != n_rows or best_idx.shape[0] != n_rows or best_idx.shape[1] != k:
        raise ValueError("best and best_idx must have shape (n_rows, k) of scores")
    if k < 1:
        raise ValueError("k must be >= 1")
    cdef Py_ssize_t r, c, c_end, p
    cdef const float *row
    cdef float *top
    cdef int64_t *top_idx
    cdef float v, thr
    with nogil:
        for r in range(n_rows):
            # r < n_rows and c < n_cols index inside the C-contiguous blocks;
            # p runs within [0, k) of the row's top list
            row = &scores[r, 0]
            top = &best[r, 0]
            top_idx = &best_idx[r, 0]
            thr = top[k - 1]
            c = 0
            while c < n_cols:
                c_end = c + SCAN_LANES if c + SCAN_LANES < n_cols else n_cols
                # a fixed-width branch-free max vectorises; most lanes stop here
                if c_end - c == SCAN_LANES and all_below16(row + c, thr):
                    c = c_end
                    continue
                for p in range(c, c_end):
                    v = row[p]
                    if v > thr:
                        insert_sorted(top, top_idx, k, v, col0 + p)
                        thr = top[k - 1]
                c = c_end
    return None


cdef inline void insert_sorted(float *top, int64_t *top_idx, Py_ssize_t k, float v,
                               int64_t col) noexcept nogil:
    """Insert ``v`` (> top[k - 1]) into the decreasing list, dropping the last."""
    cdef Py_ssize_t p = k - 1
    while p > 0 and top[p - 1] < v:
        top[p] = top[p - 1]
        top_idx[p] = top_idx[p - 1]
        p -= 1
    top[p] = v
    top_idx[p] = col
