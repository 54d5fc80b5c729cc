# Included by _core_body.pxi (every kernel build).
#
# --- exact top-k selection over blocks of scores --------------------------------


cdef extern from *:
    """
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
    int all_below16 "i2v_all_below16"(const float *x, float thr) noexcept nogil


cdef enum:
    SCAN_LANES = 16


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
