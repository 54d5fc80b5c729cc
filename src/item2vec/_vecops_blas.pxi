# Included by _core_blas.pyx (the ``blas`` build), before _core_body.pxi.
#
# --- vector primitives: SciPy's BLAS (scipy.linalg.cython_blas) -----------------
#
# The primitives _vecops.pxi describes, one BLAS level-1 call per row: sdot to
# score a row, saxpy to update one. The cython_blas functions take every
# argument by pointer and run without the GIL.
#
# Batching the rows of a prediction into level-2 calls does not pay here. The
# rows (the target and its noise items) lie scattered over syn1, so BLAS can
# only see them as a matrix after they are copied into one buffer: scoring them
# as one sgemv and updating them with one sgemv (acc) and one sger (rows), then
# copying them back, executed 27.2k instructions per token (skip-gram, dim 100)
# against 21.9k for these per-row calls, and trained 10-30% slower at dims 32,
# 100 and 300; scoring alone by sgemv (rows copied once, updated per row) was in
# between, 24.0k. Scoring all contexts of a window against the same rows (one
# sgemm) would change the results: word2vec updates the rows after each
# context. Measurements in benchmarks/README.md ("Kernel builds").

from libc.string cimport memset
from scipy.linalg.cython_blas cimport saxpy, sdot, sscal

# rows are not padded: BLAS has no masked tail to save
cdef enum:
    VEC_FLOATS = 1


cdef inline void score_rows(int n, const float *x, float **rows, int n_rows,
                            float *out) noexcept nogil:
    """out[r] = x . rows[r]: one sdot per row."""
    cdef int r, inc = 1
    for r in range(n_rows):
        out[r] = sdot(&n, <float *>x, &inc, rows[r], &inc)


cdef inline void update_rows(int n, const float *x, float *acc, float **rows, int n_rows,
                             const float *g, float *scratch) noexcept nogil:
    """acc += sum of g[r] * rows[r] (old values), rows[r] += g[r] * x (old x).

    Two saxpy per row, in that order: the row's old value goes into acc first.
    When acc is x, the sum goes into ``scratch`` (n floats) and is added last,
    so every row is updated with the old x.
    """
    cdef int r, inc = 1
    cdef float gr, one = 1.0
    cdef bint apart = acc == x
    cdef float *into = scratch if apart else acc
    if apart:
        memset(scratch, 0, n * sizeof(float))
    for r in range(n_rows):
        gr = g[r]
        saxpy(&n, &gr, rows[r], &inc, into, &inc)
        saxpy(&n, &gr, <float *>x, &inc, rows[r], &inc)
    if apart:
        saxpy(&n, &one, scratch, &inc, acc, &inc)


cdef inline void sum_rows(int n, float **rows, int n_rows, const float *w, float norm,
                          float *out) noexcept nogil:
    """out = norm * sum of w[r] * rows[r] (w NULL: all ones): saxpy per row, then sscal."""
    cdef int r, inc = 1
    cdef float wr
    memset(out, 0, n * sizeof(float))
    for r in range(n_rows):
        wr = w[r] if w != NULL else 1.0
        saxpy(&n, &wr, rows[r], &inc, out, &inc)
    if norm != 1.0:
        sscal(&n, &norm, out, &inc)


cdef inline void spread_rows(int n, const float *g, float **rows, int n_rows,
                             const float *w) noexcept nogil:
    """rows[r] += w[r] * g (w NULL: all ones), one saxpy per row, in order."""
    cdef int r, inc = 1
    cdef float wr
    for r in range(n_rows):
        wr = w[r] if w != NULL else 1.0
        saxpy(&n, &wr, <float *>g, &inc, rows[r], &inc)


cdef inline int arithmetic_length(int dim, int stride) noexcept nogil:
    """How many floats of a row to compute on: its own (BLAS has no masked tail to save)."""
    return dim
