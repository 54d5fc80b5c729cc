# Included by _core_body.pxi (every kernel build).
#
# --- random numbers: xorshift64* seeded through splitmix64 --------------------
#
# A call of train_chunk has two streams, both derived from its seed: the main
# one (subsampling, window sizes, session contexts) and the noise one (noise
# items, see draw_noise). Keeping them apart lets sample_noise reproduce the
# noise draws of a call without replaying the rest.


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


cdef inline uint64_t main_seed(uint64_t seed) noexcept nogil:
    """State of the main stream of a call seeded with ``seed`` (never zero)."""
    return splitmix64(seed) | 1  # xorshift state must be non-zero


cdef inline uint64_t noise_seed(uint64_t seed) noexcept nogil:
    """State of the noise stream of a call seeded with ``seed`` (never zero)."""
    return splitmix64(seed ^ 0x6E6F6973655F7273ULL) | 1
