# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""The kernels of ``_core`` with their vector primitives on SciPy's BLAS.

The same training loops as ``_core`` (the shared body, ``_core_body.pxi``),
with the primitives of ``_vecops_blas.pxi``: ``scipy.linalg.cython_blas``
``sdot`` and ``saxpy``, one call per row, without the GIL. setup.py builds it
with the baseline flags. It trains slower than the plain loops at these vector
sizes, so ``item2vec._kernels`` never picks it by itself; it runs with
``ITEM2VEC_KERNEL=blas`` (measurements in benchmarks/README.md, "Kernel builds").
"""

include "_vecops_blas.pxi"
include "_core_body.pxi"
