# Included by _core_body.pxi (every kernel build).
#
# --- the noise distribution: an alias table, packed, and draws from it ---------


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


cdef object pack_alias(const uint32_t[::1] threshold, const int32_t[::1] alias):
    """The alias table as one uint64 array, ``threshold << 32 | alias`` per item.

    One entry holds both halves, so a draw costs one cache miss instead of two.
    The caller has checked that both tables have the same length n_items >= 1;
    this checks every alias (draw_noise returns them unchecked).
    """
    import numpy as np

    cdef Py_ssize_t n_items = threshold.shape[0], j
    cdef int bad = 0
    with nogil:
        for j in range(n_items):
            if alias[j] < 0 or alias[j] >= n_items:
                bad = 1
    if bad:
        raise ValueError("noise_alias holds an index outside [0, n_items)")
    packed_arr = np.empty(n_items, dtype=np.uint64)
    cdef uint64_t[::1] packed = packed_arr
    with nogil:
        for j in range(n_items):
            packed[j] = ((<uint64_t>threshold[j]) << 32) | <uint32_t>alias[j]
    return packed_arr


cdef inline uint32_t noise_slot(uint64_t r, uint32_t n_items) noexcept nogil:
    """The alias-table entry a draw with random number ``r`` looks at, < n_items."""
    return <uint32_t>(((r >> 32) * <uint64_t>n_items) >> 32)


cdef inline int32_t noise_item(uint64_t r, const uint64_t *packed,
                               uint32_t n_items) noexcept nogil:
    """The noise item a draw with random number ``r`` gives, by the alias method.

    The slot k < n_items by the multiply-shift; every alias < n_items was
    checked by pack_alias, which made ``packed`` (of n_items entries).
    """
    cdef uint32_t k = noise_slot(r, n_items)
    cdef uint64_t entry = packed[k]
    if <uint32_t>(r & 0xFFFFFFFFULL) < <uint32_t>(entry >> 32):
        return <int32_t>k
    return <int32_t>(entry & 0xFFFFFFFFULL)


cdef inline int32_t draw_noise(uint64_t *state, const uint64_t *packed,
                               uint32_t n_items) noexcept nogil:
    """One draw from the noise distribution, O(1): one random number, one entry."""
    return noise_item(rng_next(state), packed, n_items)


def sample_noise(const uint32_t[::1] noise_threshold, const int32_t[::1] noise_alias,
                 Py_ssize_t n_draws, uint64_t seed):
    """``n_draws`` items drawn as the kernels draw noise items (for tests)."""
    import numpy as np

    cdef Py_ssize_t n_items = noise_threshold.shape[0], i
    if n_items < 1 or noise_alias.shape[0] != n_items:
        raise ValueError("noise tables must be non-empty and of equal length")
    cdef const uint64_t[::1] packed = pack_alias(noise_threshold, noise_alias)
    out_arr = np.empty(n_draws, dtype=np.int32)
    cdef int32_t[::1] out = out_arr
    cdef uint64_t state = noise_seed(seed)
    with nogil:
        for i in range(n_draws):
            out[i] = draw_noise(&state, &packed[0], <uint32_t>n_items)
    return out_arr
