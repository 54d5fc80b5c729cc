# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""The kernels of ``_core`` compiled for x86-64 CPUs with AVX2 and FMA.

setup.py builds this module with ``-mavx2 -mfma`` (``/arch:AVX2`` on MSVC), which
selects the AVX2 intrinsics of ``_vecops.pxi``; ``item2vec._kernels`` imports it only
when the CPU reports both features.
"""

include "_core.pyx"
