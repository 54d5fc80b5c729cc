# Included by _core_body.pxi (every kernel build).
#
# --- the sigmoid and log-sigmoid -----------------------------------------------

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
