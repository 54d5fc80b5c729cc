# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""Negative-sampling training loops (skip-gram and CBOW), all without the GIL.

A fit builds one :class:`TrainingSetup` (the arrays and options, checked and
prepared once); each call of :func:`train_chunk` then trains a contiguous run
of sequences of its CSR corpus. Python only runs between calls (learning-rate
schedule, progress, threads), so the interpreter never sits inside the
per-token work.

Indexing in the loops is unchecked. Every index is either validated once by
TrainingSetup (codes < n_items, offsets monotone and inside ``codes``, alias
entries < n_items, table lengths equal to ``n_items``), by train_chunk (the
sequence range) or derived from validated values; the comments next to the
loops give the reasoning.

Every kernel build is one module that includes its vector primitives, then the
one shared body. This module uses plain loops that the compiler vectorises;
``_core_avx2.pyx`` includes it, compiled for AVX2 + FMA, where ``_vecops.pxi``
uses intrinsics instead; ``_core_blas.pyx`` uses SciPy's BLAS.
The pieces, in the order they are included:

- ``_vecops.pxi``: the vector primitives (scoring and updating the output
  rows of one prediction, CBOW's sum over and update of its context rows);
- ``_core_body.pxi``: the shared body, which includes

  - ``_sigmoid.pxi``: the sigmoid and log-sigmoid tables;
  - ``_rng.pxi``: the random number streams;
  - ``_alias.pxi``: the noise distribution's alias table and draws from it;
  - ``_sgns.pxi``: one prediction, and the skip-gram / CBOW events of a centre;
  - ``_contexts.pxi``: one sequence: subsampling, contexts, pair scales;
  - ``_topk.pxi``: exact top-k selection (for neighbour search);

  then defines :class:`TrainingSetup` and :func:`train_chunk`.
"""

include "_vecops.pxi"
include "_core_body.pxi"
