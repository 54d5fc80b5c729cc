# Included by every kernel module (_core.pyx, _core_blas.pyx), after its vector
# primitives (_vecops.pxi or _vecops_blas.pxi): everything of the kernels that does
# not depend on how rows are multiplied. See _core.pyx for the whole picture.
#
# --- the shared body: the pieces, the per-fit setup and train_chunk ------------

from libc.math cimport exp, fabs, log1p
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memset

include "_sigmoid.pxi"
include "_rng.pxi"
include "_alias.pxi"
include "_sgns.pxi"
include "_contexts.pxi"
include "_topk.pxi"


cdef extern from *:
    """
    /* A flag another thread sets; volatile so every read goes to memory. */
    static inline int i2v_read_flag(const volatile int *flag) { return *flag; }
    """
    int read_flag "i2v_read_flag"(const int *flag) noexcept nogil


cdef Py_ssize_t longest_sequence(const int64_t[::1] offsets, Py_ssize_t n_codes) noexcept nogil:
    """The longest sequence, or -1 unless offsets are non-decreasing and inside codes."""
    cdef Py_ssize_t s, n_seqs = offsets.shape[0] - 1, max_len = 0
    if n_seqs < 0 or offsets[0] < 0 or offsets[n_seqs] > n_codes:
        return -1
    for s in range(n_seqs):
        if offsets[s + 1] < offsets[s]:
            return -1
        if offsets[s + 1] - offsets[s] > max_len:
            max_len = offsets[s + 1] - offsets[s]
    return max_len


cdef bint codes_below(const int32_t[::1] codes, int64_t begin, int64_t end,
                      Py_ssize_t n_items) noexcept nogil:
    """Whether ``codes[begin:end]`` (inside codes) all lie in [0, n_items)."""
    cdef int64_t t
    for t in range(begin, end):
        if codes[t] < 0 or codes[t] >= n_items:
            return False
    return True


#: Weight rows train fastest when their length is a multiple of this many
#: floats (zeros after the item's own): 8 in the AVX2 build, 1 (no padding) else.
ROW_FLOATS = VEC_FLOATS


cdef bint padding_is_zero(const float[:, ::1] rows, int own) noexcept nogil:
    """Whether every row's entries from column ``own`` on are zero."""
    cdef Py_ssize_t r, k
    for r in range(rows.shape[0]):
        for k in range(own, rows.shape[1]):
            if rows[r, k] != 0:
                return False
    return True


cdef class TrainingSetup:
    """The arrays and options of one fit, checked and prepared once for :func:`train_chunk`.

    Parameters
    ----------
    syn0, syn1neg : float32 arrays of shape (n_items, stride), C-contiguous
        Input and output weights, updated in place (shared between threads):
        each row is the item's ``dim`` floats followed by ``stride - dim``
        zeros, which stay zero (see ``dim``).
    codes, offsets : int32 and int64 arrays
        The corpus: sequence ``s`` is ``codes[offsets[s]:offsets[s + 1]]``.
    keep_prob : float32 array of shape (n_items,) or (0,), or None
        Probability of keeping each item (frequent-item subsampling); empty
        (or None) means keep everything.
    noise_threshold, noise_alias : uint32 and int32 arrays of shape (n_items,)
        Alias table of the noise distribution: draw k uniformly, keep it if a
        uniform 32-bit number is below ``noise_threshold[k]``, else take
        ``noise_alias[k]``. Packed here into one uint64 per item.
    sg, cbow_mean, window, shrink_windows, negative, shared_negatives
        As in :class:`item2vec.Item2Vec` (keyword-only, like all that follow).
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
    past_only : bool
        Contexts only from before the centre (``context="past"``): the
        window's left half, or with ``session_contexts`` the earlier items.
    dim : int, optional
        Floats of each row that belong to the item (default: all of them).
        Rows padded to a multiple of ``ROW_FLOATS`` floats train faster: the
        AVX2 build then runs over the padding in whole 8-float blocks. The
        vectors come out the same bits either way.

    The arrays are referenced, not copied, for the life of the setup. The
    training loops trust the checks made here, so the corpus arrays and the
    noise tables must not change while the setup is in use.
    """

    cdef float[:, ::1] syn0
    cdef float[:, ::1] syn1neg
    cdef const int32_t[::1] codes
    cdef const int64_t[::1] offsets
    cdef const float[::1] keep_prob
    cdef const float[::1] weights
    cdef const double[::1] times
    cdef const uint64_t[::1] noise_packed
    cdef Trainer model   # the Trainer fields that come from the fit (buffers NULL)
    cdef Corpus corpus
    cdef readonly Py_ssize_t n_items, n_sequences, max_len
    cdef readonly int dim, stride

    def __cinit__(self, float[:, ::1] syn0 not None, float[:, ::1] syn1neg not None,
                  const int32_t[::1] codes not None, const int64_t[::1] offsets not None,
                  const float[::1] keep_prob,
                  const uint32_t[::1] noise_threshold not None,
                  const int32_t[::1] noise_alias not None, *, bint sg, bint cbow_mean,
                  int window, bint shrink_windows, int negative, bint shared_negatives,
                  const float[::1] weights=None, const double[::1] times=None,
                  double time_decay=0.0, double time_window=0.0, int session_contexts=0,
                  bint past_only=False, dim=None):
        cdef Py_ssize_t n_items = syn0.shape[0], n_codes = codes.shape[0], max_len
        cdef Py_ssize_t n_keep = keep_prob.shape[0] if keep_prob is not None else 0
        if syn0.shape[1] >= 2147483647:
            raise ValueError("rows too long for int lengths")
        cdef int stride = <int>syn0.shape[1]
        cdef bint timed = time_decay > 0 or time_window > 0
        if syn1neg.shape[0] != n_items or syn1neg.shape[1] != stride:
            raise ValueError("syn1neg must have the shape of syn0")
        if n_items < 1 or stride < 1:
            raise ValueError("weights must have at least one row and one column")
        if n_items >= 2147483647:
            raise ValueError("too many items for int32 codes")
        cdef int own = stride if dim is None else dim
        if own < 1 or own > stride:
            raise ValueError(f"dim must be in [1, {stride}] (the rows' length), got {dim}")
        cdef bint zeros
        with nogil:
            zeros = padding_is_zero(syn0, own) and padding_is_zero(syn1neg, own)
        if not zeros:
            # a nonzero padding entry would leak into the sums of the AVX2 build
            raise ValueError("the padding columns (dim onwards) must be zero")
        cdef const char *in_begin = <const char *>&syn0[0, 0]
        cdef const char *out_begin = <const char *>&syn1neg[0, 0]
        cdef size_t n_bytes = <size_t>n_items * stride * sizeof(float)
        if in_begin < out_begin + n_bytes and out_begin < in_begin + n_bytes:
            # an input row that is also an output row breaks the updates (restrict)
            raise ValueError("syn0 and syn1neg must not share memory")
        if noise_threshold.shape[0] != n_items or noise_alias.shape[0] != n_items:
            raise ValueError("noise tables must have one entry per item")
        if n_keep != 0 and n_keep != n_items:
            raise ValueError("keep_prob must be empty or have one entry per item")
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        if negative < 0:
            raise ValueError(f"negative must be >= 0, got {negative}")
        if weights is not None and weights.shape[0] != n_codes:
            raise ValueError("weights must have one entry per code")
        if times is not None and times.shape[0] != n_codes:
            raise ValueError("times must have one entry per code")
        if timed and times is None:
            raise ValueError("time_decay and time_window need times")
        if session_contexts < 0:
            raise ValueError(f"session_contexts must be >= 0, got {session_contexts}")
        with nogil:
            max_len = longest_sequence(offsets, n_codes)
        if max_len < 0:
            raise ValueError("offsets must be non-decreasing and inside codes")
        self.noise_packed = pack_alias(noise_threshold, noise_alias)
        cdef int64_t first = offsets[0], last = offsets[offsets.shape[0] - 1]
        cdef bint good
        with nogil:
            good = codes_below(codes, first, last, n_items)
        if not good:
            raise ValueError(f"codes must lie in [0, {n_items})")

        self.syn0, self.syn1neg, self.codes, self.offsets = syn0, syn1neg, codes, offsets
        self.keep_prob, self.weights, self.times = keep_prob, weights, times
        self.n_items, self.dim, self.stride, self.max_len = n_items, own, stride, max_len
        self.n_sequences = offsets.shape[0] - 1
        self.model.syn0 = &syn0[0, 0]
        self.model.syn1 = &syn1neg[0, 0]
        # own <= arithmetic length <= stride: every row access stays in its row
        self.model.dim = arithmetic_length(own, stride)
        self.model.stride = stride
        self.model.negative = negative
        self.model.n_items = <uint32_t>n_items
        self.model.noise_packed = &self.noise_packed[0]
        cdef Corpus *cp = &self.corpus
        cp.codes = &codes[0] if n_codes > 0 else NULL
        cp.offsets = &offsets[0]
        cp.keep_prob = &keep_prob[0] if n_keep > 0 else NULL
        cp.weights = &weights[0] if weights is not None and n_codes > 0 else NULL
        cp.times = &times[0] if timed and n_codes > 0 else NULL
        cp.time_decay, cp.time_window = time_decay, time_window
        cp.max_len = max_len
        cp.window, cp.session_contexts = window, session_contexts
        if session_contexts > 0:
            # at most session_contexts per centre, and only when the pool (fewer
            # than max_len others) is larger: so at most max_len as well
            cp.max_ctx = min(<Py_ssize_t>session_contexts, max_len)
        else:
            # at most 2 * window, and fewer than max_len (see gather_contexts)
            cp.max_ctx = min(2 * <Py_ssize_t>window, max_len)
        cp.sg, cp.cbow_mean, cp.shrink_windows = sg, cbow_mean, shrink_windows
        cp.shared_negatives = shared_negatives
        cp.past_only = past_only


def train_chunk(TrainingSetup setup not None, Py_ssize_t seq_begin, Py_ssize_t seq_end,
                double alpha_begin, double alpha_end, uint64_t seed, const int[::1] stop=None):
    """Train on sequences ``seq_begin <= s < seq_end`` of the setup's corpus.

    The learning rate goes linearly from ``alpha_begin`` at the chunk's first
    raw token to ``alpha_end`` after its last; ``seed`` seeds the call's random
    numbers. ``stop`` (int32, shape (1,)) is read before every sequence: once
    another thread sets it non-zero, the call returns early.

    Returns ``(raw_tokens, kept_tokens, n_events, loss)``: tokens read (fewer
    than the chunk's when stopped early), tokens kept after subsampling,
    prediction events (pairs for skip-gram, centre items for CBOW) and their
    summed loss.
    """
    if seq_begin < 0 or seq_end < seq_begin or seq_end > setup.n_sequences:
        raise ValueError("sequence range outside offsets")
    cdef int no_stop = 0
    if stop is not None and stop.shape[0] < 1:
        raise ValueError("stop must hold one flag")
    cdef const int *stop_flag = &stop[0] if stop is not None else &no_stop

    cdef Corpus cp = setup.corpus
    cdef Trainer tr = setup.model
    tr.rng = main_seed(seed)
    tr.noise_rng = noise_seed(seed)
    tr.loss = 0.0
    tr.n_events = 0
    cdef Sequence sq
    # both allocate (and set every pointer) before either result is looked at
    cdef int got_trainer = trainer_alloc(&tr), got_sequence = sequence_alloc(&sq, &cp)
    if not (got_trainer and got_sequence):
        trainer_free(&tr)
        sequence_free(&sq)
        raise MemoryError()

    # 0 <= seq_begin <= seq_end <= n_sequences: offsets[s] and offsets[s + 1]
    # are inside offsets for every s of the range
    cdef int64_t raw_total = cp.offsets[seq_end] - cp.offsets[seq_begin]
    cdef int64_t raw_done = 0, kept = 0, start, end
    cdef double slope = (alpha_end - alpha_begin) / raw_total if raw_total > 0 else 0.0
    cdef Py_ssize_t s
    with nogil:
        start_noise(&tr)
        for s in range(seq_begin, seq_end):
            if read_flag(stop_flag):
                break
            start = cp.offsets[s]
            end = cp.offsets[s + 1]
            kept += train_sequence(&cp, &tr, &sq, start, end, alpha_begin, slope, raw_done)
            raw_done += end - start

    trainer_free(&tr)
    sequence_free(&sq)
    return raw_done, kept, tr.n_events, tr.loss
