# Included by _core_body.pxi (every kernel build).
#
# --- one sequence: subsampling, the contexts of each centre, their scales -------


cdef struct Corpus:
    # The corpus and options of one fit, checked by TrainingSetup; read-only
    # while training (each call of train_chunk works on its own copy).
    const int32_t *codes     # codes[offsets[0]:offsets[n_sequences]] are all < n_items
    const int64_t *offsets   # n_sequences + 1 entries, non-decreasing, inside codes
    const float *keep_prob   # one per item; NULL: keep every item
    const float *weights     # one per code; NULL: unweighted
    const double *times      # one per code; NULL unless time_decay or time_window > 0
    double time_decay
    double time_window
    Py_ssize_t max_len       # the longest sequence, in raw tokens
    Py_ssize_t max_ctx       # the most contexts a centre can have
    int window               # >= 1
    int session_contexts     # > 0: contexts from the whole sequence (window unused)
    bint sg
    bint cbow_mean
    bint shrink_windows
    bint shared_negatives
    bint past_only           # contexts only before the centre (context="past")


cdef struct Sequence:
    # One subsampled sequence and the contexts of its current centre; every
    # call of train_chunk allocates its own (they are per thread).
    int32_t *items     # the kept items, max_len + 1
    float *weights     # their weights, max_len + 1 (NULL when unweighted)
    double *times      # their times, max_len + 1 (NULL when untimed)
    Py_ssize_t *ctx    # positions of the current centre's contexts, max_ctx + 1
    float *scale       # their learning-rate factors, max_ctx + 1 (NULL when unscaled)
    float **rows       # their input rows (CBOW), max_ctx + 1
    float *share       # CBOW's weighted mean: each scale relative to the largest (or NULL)


cdef inline int sequence_alloc(Sequence *sq, const Corpus *cp) noexcept nogil:
    """Allocate the buffers of ``sq`` for ``cp``; 0 if out of memory.

    Every pointer is set (NULL on failure), so sequence_free is always safe.
    """
    cdef bint weighted = cp.weights != NULL, timed = cp.times != NULL
    sq.items = <int32_t *>malloc((cp.max_len + 1) * sizeof(int32_t))
    sq.weights = <float *>malloc((cp.max_len + 1) * sizeof(float)) if weighted else NULL
    sq.times = <double *>malloc((cp.max_len + 1) * sizeof(double)) if timed else NULL
    sq.ctx = <Py_ssize_t *>malloc((cp.max_ctx + 1) * sizeof(Py_ssize_t))
    sq.rows = <float **>malloc((cp.max_ctx + 1) * sizeof(float *))
    sq.scale = (<float *>malloc((cp.max_ctx + 1) * sizeof(float))
                if weighted or timed else NULL)
    sq.share = (<float *>malloc((cp.max_ctx + 1) * sizeof(float))
                if weighted or timed else NULL)
    return (sq.items != NULL and sq.ctx != NULL and sq.rows != NULL
            and (sq.weights != NULL or not weighted)
            and (sq.times != NULL or not timed)
            and ((sq.scale != NULL and sq.share != NULL) or not (weighted or timed)))


cdef inline void sequence_free(Sequence *sq) noexcept nogil:
    free(sq.items)
    free(sq.weights)
    free(sq.times)
    free(sq.ctx)
    free(sq.scale)
    free(sq.rows)
    free(sq.share)


cdef inline Py_ssize_t subsample(const Corpus *cp, uint64_t *rng, int64_t start, int64_t end,
                                 Sequence *sq) noexcept nogil:
    """Copy the items of ``codes[start:end]`` that subsampling keeps into ``sq``.

    Their weights and times come along. Returns how many were kept.
    """
    cdef Py_ssize_t n = 0, t
    cdef int32_t w
    # end - start <= max_len, so n <= max_len stays inside sq.items (and
    # sq.weights, sq.times); weights and times have one entry per code, like
    # t; w < n_items indexes keep_prob
    for t in range(start, end):
        w = cp.codes[t]
        if cp.keep_prob != NULL and cp.keep_prob[w] < 1.0:
            if rng_unit(rng) >= cp.keep_prob[w]:
                continue
        sq.items[n] = w
        if cp.weights != NULL:
            sq.weights[n] = cp.weights[t]
        if cp.times != NULL:
            sq.times[n] = cp.times[t]
        n += 1
    return n


cdef inline Py_ssize_t gather_contexts(const Corpus *cp, uint64_t *rng, Py_ssize_t i,
                                       Py_ssize_t n, Py_ssize_t *ctx) noexcept nogil:
    """Store the context positions of centre ``i`` of ``n`` kept items in ``ctx``.

    Returns their number. Each is in [0, n) and != i, and there are at most
    max_ctx of them (the size of ctx and of the scales).
    """
    cdef Py_ssize_t j, lo, hi, reach, n_ctx = 0, n_pool
    if cp.session_contexts > 0:
        # the pool: every other item, or with past_only the i items before the centre
        n_pool = i if cp.past_only else n - 1
        if n_pool <= cp.session_contexts:
            # n_pool <= session_contexts positions, and n_pool < max_len: so <= max_ctx
            for j in range(i if cp.past_only else n):
                if j != i:
                    ctx[n_ctx] = j
                    n_ctx += 1
        else:
            # n_pool > session_contexts >= 1, so the draw is in [0, n_pool) and
            # (skipping i when the pool surrounds it) a position in [0, n) != i;
            # exactly session_contexts < n_pool < max_len positions, so max_ctx
            # (the smaller of the two) of them
            while n_ctx < cp.session_contexts:
                j = <Py_ssize_t>rng_below(rng, <uint32_t>n_pool)
                ctx[n_ctx] = j + 1 if j >= i else j
                n_ctx += 1
        return n_ctx
    reach = cp.window
    if cp.shrink_windows:
        reach = cp.window - <Py_ssize_t>rng_below(rng, <uint32_t>cp.window)
    # 0 <= lo <= i < hi <= n and hi - lo <= 2 * reach + 1, so there are at
    # most min(2 * window, n - 1) <= max_ctx positions
    lo = i - reach if i > reach else 0
    hi = i + reach + 1 if i + reach + 1 < n else n
    if cp.past_only:
        hi = i  # only the items before the centre predict it
    for j in range(lo, hi):
        if j != i:
            ctx[n_ctx] = j
            n_ctx += 1
    return n_ctx


cdef inline Py_ssize_t scale_contexts(const Corpus *cp, Sequence *sq, Py_ssize_t i,
                                      Py_ssize_t n_ctx) noexcept nogil:
    """Set the learning-rate factor of each pair (context, centre ``i``) in ``sq.scale``.

    A pair's factor is the context's weight (times the centre's, for
    skip-gram) times ``exp(-|dt| / time_decay)``. Pairs more than
    ``time_window`` apart are dropped, and so are those whose factor is not
    positive, compacting ``sq.ctx`` in place. Returns how many remain.
    """
    cdef Py_ssize_t c, j, m = 0
    cdef double dt, pair
    # m <= c < n_ctx <= max_ctx; every j is a position in [0, n), like i
    for c in range(n_ctx):
        j = sq.ctx[c]
        pair = sq.weights[j] if sq.weights != NULL else 1.0
        if sq.times != NULL:
            dt = fabs(sq.times[i] - sq.times[j])
            if cp.time_window > 0 and dt > cp.time_window:
                continue
            if cp.time_decay > 0:
                pair *= exp(-dt / cp.time_decay)
        if cp.sg and sq.weights != NULL:
            pair *= sq.weights[i]
        # filter on the stored float: a weight that rounds to 0 is no pair
        sq.scale[m] = <float>pair
        if sq.scale[m] > 0:
            sq.ctx[m] = j
            m += 1
    return m


cdef inline Py_ssize_t train_sequence(const Corpus *cp, Trainer *tr, Sequence *sq,
                                      int64_t start, int64_t end, double alpha_begin,
                                      double slope, int64_t raw_done) noexcept nogil:
    """Train on the sequence ``codes[start:end]``; return its number of kept tokens.

    ``raw_done`` raw tokens of the chunk come before it; the learning rate is
    ``alpha_begin + slope * position``, the kept items spread evenly over the
    sequence's raw positions.
    """
    cdef Py_ssize_t i, n_ctx, n = subsample(cp, &tr.rng, start, end, sq)
    cdef double seq_step = (end - start) / <double>n if n > 0 else 0.0
    cdef float alpha, centre_alpha
    for i in range(n):
        alpha = <float>(alpha_begin + slope * (raw_done + i * seq_step))
        if i + 1 < n:  # the next centre's output row, needed by the next step
            prefetch_row(tr.syn1 + <int64_t>sq.items[i + 1] * tr.stride, tr.dim)
        n_ctx = gather_contexts(cp, &tr.rng, i, n, sq.ctx)
        centre_alpha = alpha
        if sq.scale != NULL:
            n_ctx = scale_contexts(cp, sq, i, n_ctx)
            if sq.weights != NULL and not cp.sg:
                centre_alpha = alpha * sq.weights[i]
        if n_ctx == 0:
            continue
        if cp.sg:
            skipgram_contexts(tr, sq.items, i, sq.ctx, sq.scale, n_ctx, cp.shared_negatives,
                              alpha)
        else:
            cbow_contexts(tr, sq.items, i, sq.ctx, sq.scale, n_ctx, cp.cbow_mean, centre_alpha,
                          sq.rows, sq.share)
    return n
