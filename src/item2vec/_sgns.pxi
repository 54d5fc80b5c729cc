# Included by _core_body.pxi (every kernel build).
#
# --- one prediction, and the skip-gram and CBOW events of one centre -----------
#
# The rows are multiplied by the build's vector primitives (score_rows,
# update_rows, sum_rows, spread_rows: _vecops.pxi or _vecops_blas.pxi).


cdef extern from *:
    """
    #include <stdint.h>
    #if defined(__GNUC__) || defined(__clang__)
    #define I2V_PREFETCH(p) __builtin_prefetch((p), 1, 3)
    #else
    #define I2V_PREFETCH(p) ((void)0)
    #endif
    /* Start loading every cache line that holds part of row[0:n]: from the
       line of its first float (rows need not start on a line) to its last. */
    static inline void i2v_prefetch_row(const float *row, int n) {
        const char *line = (const char *)((uintptr_t)row & ~(uintptr_t)63);
        const char *end = (const char *)(row + n);
        for (; line < end; line += 64) I2V_PREFETCH(line);
    }
    """
    void I2V_PREFETCH(const void *p) noexcept nogil
    void prefetch_row "i2v_prefetch_row"(const float *row, int dim) noexcept nogil


cdef struct Trainer:
    # The training state of one call of train_chunk. The first six fields come
    # from the TrainingSetup (the model's weights are shared between threads,
    # Hogwild-style); the rest belongs to the call.
    float *syn0         # input vectors, n_items rows of stride floats
    float *syn1         # output vectors, the same shape
    int dim             # floats of a row the arithmetic runs over (see TrainingSetup)
    int stride          # floats from one row to the next, >= dim
    int negative
    uint32_t n_items
    const uint64_t *noise_packed  # threshold << 32 | alias per item: one miss per draw
    uint64_t rng
    float *neu1e        # CBOW's input-side gradient (skip-gram's scratch), dim floats
    float *hidden       # CBOW's input vector, dim floats
    int32_t *noise      # the current noise items, negative ints
    int32_t *upcoming   # the next noise items, drawn (and their rows fetched) ahead
    uint64_t *pending   # the random numbers of the noise draws after those (entries fetched)
    uint64_t noise_rng  # noise items come from their own stream (see sample_noise)
    float **rows        # output rows of the current prediction, negative + 1
    float *grad         # their gradients (scores first), negative + 1 (+ 3 spare)
    double loss
    int64_t n_events


cdef inline int trainer_alloc(Trainer *tr) noexcept nogil:
    """Allocate the per-call buffers of ``tr`` (dim and negative set); 0 if out of memory.

    Every pointer is set (NULL on failure), so trainer_free is always safe.
    """
    # sizes in size_t: negative + 4 would overflow int for a negative near 2**31
    cdef size_t n_rows = <size_t>tr.negative + 1
    tr.neu1e = <float *>malloc(<size_t>tr.dim * sizeof(float))
    tr.hidden = <float *>malloc(<size_t>tr.dim * sizeof(float))
    tr.noise = <int32_t *>malloc(n_rows * sizeof(int32_t))
    tr.upcoming = <int32_t *>malloc(n_rows * sizeof(int32_t))
    tr.pending = <uint64_t *>malloc(n_rows * sizeof(uint64_t))
    tr.rows = <float **>malloc(n_rows * sizeof(float *))
    tr.grad = <float *>malloc((n_rows + 3) * sizeof(float))
    return (tr.neu1e != NULL and tr.hidden != NULL and tr.noise != NULL
            and tr.upcoming != NULL and tr.pending != NULL and tr.rows != NULL
            and tr.grad != NULL)


cdef inline void trainer_free(Trainer *tr) noexcept nogil:
    free(tr.neu1e)
    free(tr.hidden)
    free(tr.noise)
    free(tr.upcoming)
    free(tr.pending)
    free(tr.rows)
    free(tr.grad)


cdef inline void draw_pending(Trainer *tr) noexcept nogil:
    """Draw the random numbers of the next-but-one prediction's noise items.

    Their alias-table entries start loading now, one prediction before the
    items are resolved from them.
    """
    cdef int d
    cdef uint64_t r
    for d in range(tr.negative):
        r = rng_next(&tr.noise_rng)
        tr.pending[d] = r
        I2V_PREFETCH(tr.noise_packed + noise_slot(r, tr.n_items))


cdef inline void resolve_pending(Trainer *tr) noexcept nogil:
    """Turn the pending random numbers into the upcoming noise items; fetch their rows."""
    cdef int d
    for d in range(tr.negative):
        tr.upcoming[d] = noise_item(tr.pending[d], tr.noise_packed, tr.n_items)
        prefetch_row(tr.syn1 + <int64_t>tr.upcoming[d] * tr.stride, tr.dim)


cdef inline void start_noise(Trainer *tr) noexcept nogil:
    """Fill the pipeline of noise draws (upcoming and pending) at the start of a call."""
    draw_pending(tr)
    resolve_pending(tr)
    draw_pending(tr)


cdef inline void draw_negatives(Trainer *tr) noexcept nogil:
    """Make the upcoming noise items current and move the pipeline on by one prediction.

    A noise draw takes three predictions: its random number is drawn and its
    alias-table entry fetched; one prediction later the item is resolved and
    its row fetched; one more and it is used. So the cache misses of both
    lookups overlap with useful work. The items are the same, in the same
    order, as drawing each when it is needed (draw_noise).
    """
    cdef int32_t *swap = tr.noise
    tr.noise = tr.upcoming
    tr.upcoming = swap
    resolve_pending(tr)
    draw_pending(tr)


cdef inline void train_outputs(Trainer *tr, const float *x, float *acc, int32_t target,
                               float alpha) noexcept nogil:
    """Score input ``x`` against ``target`` (label 1) and the noise items in ``tr.noise``.

    All rows of the prediction are scored before any is updated (as word2vec
    does whenever the rows are distinct); a noise item equal to the target is
    skipped, as in word2vec, and one drawn twice gets both updates at once.
    Updates the output rows in place and adds the input-side gradient to
    ``acc``: skip-gram passes its input row itself (x), CBOW a buffer it then
    spreads over the contexts.
    """
    cdef int n = tr.dim, d, q, r, found, n_rows = 1
    cdef int32_t item
    cdef float **rows = tr.rows
    cdef float *g = tr.grad
    cdef float s, logsig
    # the target is a code and the noise items come from draw_noise, all
    # < n_items, so every row lies inside syn1 (n_items rows of stride >= n floats)
    rows[0] = tr.syn1 + <int64_t>target * tr.stride
    for d in range(tr.negative):
        item = tr.noise[d]
        if item != target:
            rows[n_rows] = tr.syn1 + <int64_t>item * tr.stride
            n_rows += 1
    # the scores; n_rows <= negative + 1, the size of rows and g
    score_rows(n, x, rows, n_rows, g)
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
    update_rows(n, x, acc, rows, n_rows, g, tr.neu1e)
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
    cdef Py_ssize_t c
    cdef float *l1
    if shared:
        draw_negatives(tr)
    # ctx[c] is a position in [0, n) of seq, seq holds codes < n_items and i
    # is in [0, n) too: the rows are inside syn0 and syn1
    for c in range(n_ctx):
        if not shared:
            draw_negatives(tr)
        l1 = tr.syn0 + <int64_t>seq[ctx[c]] * tr.stride
        train_outputs(tr, l1, l1, seq[i], alpha if scale == NULL else alpha * scale[c])


cdef inline void cbow_contexts(Trainer *tr, const int32_t *seq, Py_ssize_t i,
                               const Py_ssize_t *ctx, const float *scale, Py_ssize_t n_ctx,
                               bint cbow_mean, float alpha, float **ctx_rows,
                               float *share) noexcept nogil:
    """The sum (or mean) of the context vectors (positions ``ctx``) predicts seq[i].

    As in word2vec, every context vector then receives the whole input-side
    gradient, whether the hidden layer was a sum or a mean. With ``scale``
    (per-context weights), the hidden layer is the weighted sum (or weighted
    mean) and each context receives the gradient times its weight.
    ``ctx_rows`` and ``share`` (used with scale) have room for n_ctx entries.
    """
    cdef int n = tr.dim
    cdef float norm = 1.0
    cdef const float *w = scale
    cdef double total = 0.0, top
    cdef Py_ssize_t c
    if n_ctx == 0:
        return
    # ctx[c] is a position in [0, n) of seq, seq holds codes < n_items and i
    # is in [0, n) too: the rows are inside syn0 and syn1
    for c in range(n_ctx):
        ctx_rows[c] = tr.syn0 + <int64_t>seq[ctx[c]] * tr.stride
    if scale == NULL:
        if cbow_mean and n_ctx > 1:
            norm = <float>(1.0 / n_ctx)
    elif cbow_mean:
        # weighted mean with weights relative to the largest, so the sum of
        # weights is >= 1 and its inverse finite however tiny they all are
        # (and equal weights give exactly the plain mean)
        top = scale[0]
        for c in range(1, n_ctx):
            if scale[c] > top:
                top = scale[c]
        for c in range(n_ctx):
            share[c] = <float>(scale[c] / top)
            total += share[c]
        norm = <float>(1.0 / total)
        w = share
    # n_ctx <= max_ctx, which is at most 2 * window or session_contexts (ints)
    sum_rows(n, ctx_rows, <int>n_ctx, w, norm, tr.hidden)
    memset(tr.neu1e, 0, n * sizeof(float))
    draw_negatives(tr)
    train_outputs(tr, tr.hidden, tr.neu1e, seq[i], alpha)
    spread_rows(n, tr.neu1e, ctx_rows, <int>n_ctx, scale)
