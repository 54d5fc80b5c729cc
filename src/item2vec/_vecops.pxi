# Included by _core.pyx (the baseline and AVX2 builds), before _core_body.pxi.
#
# --- vector primitives: plain loops, or AVX2 + FMA where compiled for it --------
#
# Every kernel build provides the same primitives, which the shared body calls:
#
# - score_rows(n, x, rows, n_rows, out): out[r] = x . rows[r];
# - update_rows(n, x, acc, rows, n_rows, g, scratch): acc += sum_r g[r] * rows[r]
#   (old values) and rows[r] += g[r] * x (old x); the rows are distinct and lie
#   apart from x and acc, but acc may be x itself (skip-gram adds the input-side
#   gradient straight into its input row); scratch holds n floats;
# - sum_rows(n, rows, n_rows, w, norm, out): out = norm * sum_r w[r] * rows[r]
#   (CBOW's hidden layer; w NULL means all ones, rows may repeat);
# - spread_rows(n, g, rows, n_rows, w): rows[r] += w[r] * g in order (CBOW's
#   gradient to its contexts; a row listed twice gets both shares);
# - arithmetic_length(dim, stride): the n the others are called with when rows
#   hold dim floats followed by stride - dim zeros; VEC_FLOATS, the multiple
#   of floats a row is padded to for it to run whole (1: no padding pays).
#
# The baseline build (and every build not for x86-64) uses plain loops that the
# compiler vectorises (setup.py allows reassociation so the sums vectorise too).
# The AVX2 build, compiled with -mavx2 -mfma, uses the intrinsics below: each
# 8-float block of x is loaded once for up to eight rows, the block's input-side
# gradient stays in a register, and the tail of a row (dim % 8 floats) is one
# masked block instead of the compiler's SSE and scalar epilogues. CBOW's sum
# over its context rows, and the spread of its gradient back to them, keep up
# to eight blocks of the sum (or gradient) in registers while the rows go by
# (one load and add or store per row and block). Both beat
# SciPy's BLAS sdot/saxpy at these sizes, where BLAS's per-call overhead
# dominates (the ``blas`` build, _vecops_blas.pxi, keeps the comparison
# measurable: benchmarks/README.md, "Kernel builds").


cdef extern from *:
    """
    #include <string.h>
    #if defined(_MSC_VER)
    #define I2V_RESTRICT __restrict
    #define I2V_ALWAYS_INLINE static __forceinline
    #else
    #define I2V_RESTRICT __restrict__
    #define I2V_ALWAYS_INLINE static inline __attribute__((always_inline))
    #endif

    #if defined(__AVX2__) && (defined(__FMA__) || defined(_MSC_VER))
    /* ---- AVX2 + FMA (the _core_avx2 build) ---- */
    #include <immintrin.h>
    #define I2V_ROWS_PER_PASS 8

    /* Where a row's zero padding reaches the next multiple of 8 floats, the
       arithmetic runs over it: whole blocks instead of a masked tail, which
       trained 10-30 % faster at dims 20, 50, 100 and 300 (benchmarks/README.md,
       "Padded rows"). The results are the same bits: a masked-off lane and a
       padding lane both add 0 * 0 to their sum (and the lane sums are added in
       the same order); every update adds g * 0 to a padding entry, which stays
       +0; and no entry's sum depends on any other entry. */
    #define I2V_VEC_FLOATS 8

    /* lanes [0, m) of a tail block: 8 - m entries into this table */
    static const int i2v_lane_mask[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                          0, 0, 0, 0, 0, 0, 0, 0};

    static inline float i2v_hsum(__m256 v) {
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        s = _mm_add_ss(s, _mm_movehdup_ps(s));
        return _mm_cvtss_f32(s);
    }

    /* out[j] = x . rows[j] for NR <= 8 rows, in one pass over x. Called with a
       constant NR, so the row loops unroll and every sum stays in a register. */
    I2V_ALWAYS_INLINE void i2v_score_pass(int n, const float *I2V_RESTRICT x,
            float *const *rows, const int NR, float *out) {
        __m256 s[I2V_ROWS_PER_PASS];
        const float *p[I2V_ROWS_PER_PASS];
        __m256 xv;
        __m256i mask;
        int j, k = 0;
        for (j = 0; j < NR; j++) { s[j] = _mm256_setzero_ps(); p[j] = rows[j]; }
        for (; k + 8 <= n; k += 8) {
            xv = _mm256_loadu_ps(x + k);
            for (j = 0; j < NR; j++) s[j] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(p[j] + k), s[j]);
        }
        if (k < n) {
            /* 0 < n - k < 8: only lanes [0, n - k) are read */
            mask = _mm256_loadu_si256((const __m256i *)(i2v_lane_mask + 8 - (n - k)));
            xv = _mm256_maskload_ps(x + k, mask);
            for (j = 0; j < NR; j++)
                s[j] = _mm256_fmadd_ps(xv, _mm256_maskload_ps(p[j] + k, mask), s[j]);
        }
        for (j = 0; j < NR; j++) out[j] = i2v_hsum(s[j]);
    }

    /* acc += sum_j g[j] * rows[j] and rows[j] += g[j] * x for NR <= 8 rows, in
       one pass: each block of x (and acc) is read before acc's block is
       written, so acc may be x. */
    I2V_ALWAYS_INLINE void i2v_update_pass(int n, const float *x, float *acc,
            float *const *rows, const int NR, const float *g) {
        __m256 gv[I2V_ROWS_PER_PASS];
        float *p[I2V_ROWS_PER_PASS];
        __m256 xv, av, v;
        __m256i mask;
        int j, k = 0;
        for (j = 0; j < NR; j++) { gv[j] = _mm256_set1_ps(g[j]); p[j] = rows[j]; }
        for (; k + 8 <= n; k += 8) {
            xv = _mm256_loadu_ps(x + k);
            av = _mm256_loadu_ps(acc + k);
            for (j = 0; j < NR; j++) {
                v = _mm256_loadu_ps(p[j] + k);
                av = _mm256_fmadd_ps(gv[j], v, av);
                _mm256_storeu_ps(p[j] + k, _mm256_fmadd_ps(gv[j], xv, v));
            }
            _mm256_storeu_ps(acc + k, av);
        }
        if (k < n) {
            /* 0 < n - k < 8: only lanes [0, n - k) are read or written */
            mask = _mm256_loadu_si256((const __m256i *)(i2v_lane_mask + 8 - (n - k)));
            xv = _mm256_maskload_ps(x + k, mask);
            av = _mm256_maskload_ps(acc + k, mask);
            for (j = 0; j < NR; j++) {
                v = _mm256_maskload_ps(p[j] + k, mask);
                av = _mm256_fmadd_ps(gv[j], v, av);
                _mm256_maskstore_ps(p[j] + k, mask, _mm256_fmadd_ps(gv[j], xv, v));
            }
            _mm256_maskstore_ps(acc + k, mask, av);
        }
    }

    /* the cases of a switch over the rows of one pass (1..8), each calling
       PASS(NR) with NR a constant (no variadic macros: MSVC's traditional
       preprocessor does not forward __VA_ARGS__ as separate arguments) */
    #define I2V_PASS_CASES(PASS) \
        case 1: PASS(1); break; case 2: PASS(2); break; case 3: PASS(3); break; \
        case 4: PASS(4); break; case 5: PASS(5); break; case 6: PASS(6); break; \
        case 7: PASS(7); break; default: PASS(8); break;

    static inline void i2v_score_rows(int n, const float *x, float *const *rows, int n_rows,
            float *out) {
        int r, m;
        for (r = 0; r < n_rows; r += m) {
            m = n_rows - r < I2V_ROWS_PER_PASS ? n_rows - r : I2V_ROWS_PER_PASS;
            #define I2V_SCORE(NR) i2v_score_pass(n, x, rows + r, NR, out + r)
            switch (m) { I2V_PASS_CASES(I2V_SCORE) }
            #undef I2V_SCORE
        }
    }

    static inline void i2v_update_rows(int n, const float *x, float *acc, float *const *rows,
            int n_rows, const float *g, float *scratch) {
        int r, m, k;
        /* several passes read x: collect its gradient apart, add it at the end */
        const int apart = n_rows > I2V_ROWS_PER_PASS && acc == x;
        float *into = apart ? scratch : acc;
        if (apart) memset(scratch, 0, (size_t)n * sizeof(float));
        for (r = 0; r < n_rows; r += m) {
            m = n_rows - r < I2V_ROWS_PER_PASS ? n_rows - r : I2V_ROWS_PER_PASS;
            #define I2V_UPDATE(NR) i2v_update_pass(n, x, into, rows + r, NR, g + r)
            switch (m) { I2V_PASS_CASES(I2V_UPDATE) }
            #undef I2V_UPDATE
        }
        if (apart)
            for (k = 0; k < n; k++) acc[k] += scratch[k];
    }

    /* out[k0, k0 + 8 NB) = norm * sum_r w[r] * rows[r][k0, k0 + 8 NB) (w NULL: all
       ones) for NB <= 8 full blocks: the NB sums stay in registers while the
       rows go by, so each row costs one load and add per block. Every entry
       is summed in row order from zero, as the tail block is. */
    I2V_ALWAYS_INLINE void i2v_sum_pass(const int NB, int k0, float *const *rows,
            int n_rows, const float *w, __m256 nv, float *out) {
        __m256 s[I2V_ROWS_PER_PASS];
        __m256 wv;
        const float *p;
        int b, r;
        for (b = 0; b < NB; b++) s[b] = _mm256_setzero_ps();
        if (w) {
            for (r = 0; r < n_rows; r++) {
                p = rows[r] + k0;
                wv = _mm256_set1_ps(w[r]);
                for (b = 0; b < NB; b++)
                    s[b] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(p + 8 * b), s[b]);
            }
        } else {
            for (r = 0; r < n_rows; r++) {
                p = rows[r] + k0;
                for (b = 0; b < NB; b++) s[b] = _mm256_add_ps(s[b], _mm256_loadu_ps(p + 8 * b));
            }
        }
        for (b = 0; b < NB; b++) _mm256_storeu_ps(out + k0 + 8 * b, _mm256_mul_ps(s[b], nv));
    }

    /* rows[r][k0, k0 + 8 NB) += w[r] * g[k0, k0 + 8 NB) (w NULL: all ones) for
       NB <= 8 full blocks, row after row: g's blocks stay in registers, and a
       row listed twice reads its first share back before adding the second. */
    I2V_ALWAYS_INLINE void i2v_spread_pass(const int NB, int k0, const float *g,
            float *const *rows, int n_rows, const float *w) {
        __m256 gv[I2V_ROWS_PER_PASS];
        __m256 wv;
        float *p;
        int b, r;
        for (b = 0; b < NB; b++) gv[b] = _mm256_loadu_ps(g + k0 + 8 * b);
        if (w) {
            for (r = 0; r < n_rows; r++) {
                p = rows[r] + k0;
                wv = _mm256_set1_ps(w[r]);
                for (b = 0; b < NB; b++)
                    _mm256_storeu_ps(p + 8 * b,
                                     _mm256_fmadd_ps(wv, gv[b], _mm256_loadu_ps(p + 8 * b)));
            }
        } else {
            for (r = 0; r < n_rows; r++) {
                p = rows[r] + k0;
                for (b = 0; b < NB; b++)
                    _mm256_storeu_ps(p + 8 * b, _mm256_add_ps(gv[b], _mm256_loadu_ps(p + 8 * b)));
            }
        }
    }

    /* out = norm * sum_r w[r] * rows[r] (w NULL: all ones): up to 8 blocks per
       pass over the rows, then the tail (dim % 8 floats) as one masked block */
    static inline void i2v_sum_rows(int n, float *const *rows, int n_rows, const float *w,
            float norm, float *out) {
        const __m256 nv = _mm256_set1_ps(norm);
        __m256 sv;
        __m256i mask;
        int r, m, k = 0;
        for (; k + 8 <= n; k += 8 * m) {
            m = (n - k) / 8 < I2V_ROWS_PER_PASS ? (n - k) / 8 : I2V_ROWS_PER_PASS;
            #define I2V_SUM(NB) i2v_sum_pass(NB, k, rows, n_rows, w, nv, out)
            switch (m) { I2V_PASS_CASES(I2V_SUM) }
            #undef I2V_SUM
        }
        if (k < n) {
            /* 0 < n - k < 8: only lanes [0, n - k) are read or written */
            mask = _mm256_loadu_si256((const __m256i *)(i2v_lane_mask + 8 - (n - k)));
            sv = _mm256_setzero_ps();
            for (r = 0; r < n_rows; r++)
                sv = w ? _mm256_fmadd_ps(_mm256_set1_ps(w[r]),
                                         _mm256_maskload_ps(rows[r] + k, mask), sv)
                       : _mm256_add_ps(sv, _mm256_maskload_ps(rows[r] + k, mask));
            _mm256_maskstore_ps(out + k, mask, _mm256_mul_ps(sv, nv));
        }
    }

    /* rows[r] += w[r] * g (w NULL: all ones), in order: a row listed twice gets both */
    static inline void i2v_spread_rows(int n, const float *g, float *const *rows, int n_rows,
            const float *w) {
        __m256 gv;
        __m256i mask;
        int r, m, k = 0;
        for (; k + 8 <= n; k += 8 * m) {
            m = (n - k) / 8 < I2V_ROWS_PER_PASS ? (n - k) / 8 : I2V_ROWS_PER_PASS;
            #define I2V_SPREAD(NB) i2v_spread_pass(NB, k, g, rows, n_rows, w)
            switch (m) { I2V_PASS_CASES(I2V_SPREAD) }
            #undef I2V_SPREAD
        }
        if (k < n) {
            /* 0 < n - k < 8: only lanes [0, n - k) are read or written */
            mask = _mm256_loadu_si256((const __m256i *)(i2v_lane_mask + 8 - (n - k)));
            gv = _mm256_maskload_ps(g + k, mask);
            for (r = 0; r < n_rows; r++)
                _mm256_maskstore_ps(rows[r] + k, mask, w
                    ? _mm256_fmadd_ps(_mm256_set1_ps(w[r]), gv,
                                      _mm256_maskload_ps(rows[r] + k, mask))
                    : _mm256_add_ps(gv, _mm256_maskload_ps(rows[r] + k, mask)));
        }
    }

    #else
    /* The compiler's vector loops sum in lanes plus a scalar epilogue whose
       length depends on n: padding would change the order of the sums, so the
       arithmetic stays on the row's own floats, and rows are not padded (their
       alignment alone made no measurable difference here). */
    #define I2V_VEC_FLOATS 1

    /* ---- plain loops (the baseline build, and builds not for x86-64) ----
       Several output rows against one input x at once. The rows of one
       prediction are distinct (duplicates are merged before the update), and
       x, acc and the rows live in different buffers, hence restrict: it lets
       the compiler vectorise without run-time overlap checks. Scoring four
       rows in one pass over x gives four independent sums (instruction-level
       parallelism) and loads x once; the update reads and writes acc once for
       all rows instead of once per row. */
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

    static inline void i2v_score_rows(int n, const float *x, float *const *rows, int n_rows,
            float *out) {
        int r = 0;
        for (; r + 4 <= n_rows; r += 4)
            i2v_dot4(n, x, rows[r], rows[r + 1], rows[r + 2], rows[r + 3], out + r);
        if (r + 2 <= n_rows) {
            i2v_dot2(n, x, rows[r], rows[r + 1], out + r);
            r += 2;
        }
        if (r < n_rows) out[r] = i2v_dot1(n, x, rows[r]);
    }

    static inline void i2v_update_rows(int n, const float *x, float *acc, float *const *rows,
            int n_rows, const float *g, float *scratch) {
        int r = 0, k;
        /* restrict needs acc apart from x: collect the gradient in scratch then */
        const int apart = acc == x;
        float *into = apart ? scratch : acc;
        if (apart) memset(scratch, 0, (size_t)n * sizeof(float));
        for (; r + 4 <= n_rows; r += 4)
            i2v_update4(n, x, into, rows[r], rows[r + 1], rows[r + 2], rows[r + 3], g + r);
        if (r + 2 <= n_rows) {
            i2v_update2(n, x, into, rows[r], rows[r + 1], g + r);
            r += 2;
        }
        if (r < n_rows) i2v_update1(n, x, into, rows[r], g[r]);
        if (apart)
            for (k = 0; k < n; k++) acc[k] += scratch[k];
    }
    /* out = norm * sum_r w[r] * rows[r] (w NULL: all ones), row by row */
    static inline void i2v_sum_rows(int n, float *const *rows, int n_rows, const float *w,
            float norm, float *out) {
        int r, k;
        memset(out, 0, (size_t)n * sizeof(float));
        for (r = 0; r < n_rows; r++) {
            const float *I2V_RESTRICT row = rows[r];
            const float wr = w ? w[r] : 1.0f;
            for (k = 0; k < n; k++) out[k] += wr * row[k];
        }
        if (norm != 1.0f)
            for (k = 0; k < n; k++) out[k] *= norm;
    }

    /* rows[r] += w[r] * g (w NULL: all ones), in order: a row listed twice gets both */
    static inline void i2v_spread_rows(int n, const float *I2V_RESTRICT g, float *const *rows,
            int n_rows, const float *w) {
        int r, k;
        for (r = 0; r < n_rows; r++) {
            float *I2V_RESTRICT row = rows[r];
            const float wr = w ? w[r] : 1.0f;
            for (k = 0; k < n; k++) row[k] += wr * g[k];
        }
    }
    #endif

    static inline int i2v_arithmetic_length(int dim, int stride) {
        int whole = (dim + I2V_VEC_FLOATS - 1) / I2V_VEC_FLOATS * I2V_VEC_FLOATS;
        return whole <= stride ? whole : dim;
    }
    """
    int VEC_FLOATS "I2V_VEC_FLOATS"
    void c_score_rows "i2v_score_rows"(int n, const float *x, float **rows, int n_rows,
                                       float *out) noexcept nogil
    void c_update_rows "i2v_update_rows"(int n, const float *x, float *acc, float **rows,
                                         int n_rows, const float *g,
                                         float *scratch) noexcept nogil
    void c_sum_rows "i2v_sum_rows"(int n, float **rows, int n_rows, const float *w, float norm,
                                   float *out) noexcept nogil
    void c_spread_rows "i2v_spread_rows"(int n, const float *g, float **rows, int n_rows,
                                         const float *w) noexcept nogil
    int c_arithmetic_length "i2v_arithmetic_length"(int dim, int stride) noexcept nogil


cdef inline void score_rows(int n, const float *x, float **rows, int n_rows,
                            float *out) noexcept nogil:
    """out[r] = x . rows[r] for the n_rows rows."""
    c_score_rows(n, x, rows, n_rows, out)


cdef inline void update_rows(int n, const float *x, float *acc, float **rows, int n_rows,
                             const float *g, float *scratch) noexcept nogil:
    """acc += sum of g[r] * rows[r] (old values), rows[r] += g[r] * x (old x).

    The rows are distinct and apart from x and acc; acc may be x. scratch: n floats.
    """
    c_update_rows(n, x, acc, rows, n_rows, g, scratch)


cdef inline void sum_rows(int n, float **rows, int n_rows, const float *w, float norm,
                          float *out) noexcept nogil:
    """out = norm * sum of w[r] * rows[r] (w NULL: all ones); rows may repeat."""
    c_sum_rows(n, rows, n_rows, w, norm, out)


cdef inline void spread_rows(int n, const float *g, float **rows, int n_rows,
                             const float *w) noexcept nogil:
    """rows[r] += w[r] * g (w NULL: all ones), in order; a repeated row gets every share."""
    c_spread_rows(n, g, rows, n_rows, w)


cdef inline int arithmetic_length(int dim, int stride) noexcept nogil:
    """How many floats of a row (dim of its own, then zeros up to stride) to compute on."""
    return c_arithmetic_length(dim, stride)
