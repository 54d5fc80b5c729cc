"""Hand-written mutants of the compiled kernels, for ``scripts/mutants.sh``.

Python mutation tools cannot mutate Cython, so each mutant here is a named
set of exact text substitutions in the kernel sources of ``src/item2vec``:
``_core.pyx`` and the pieces it includes, directly or through another piece
(``_vecops.pxi``, the loop primitives, and ``_core_body.pxi``, the shared body,
which includes ``_sigmoid.pxi``, ``_rng.pxi``, ``_alias.pxi``, ``_sgns.pxi``,
``_contexts.pxi`` and ``_topk.pxi``). ``_core_avx2.pyx`` includes ``_core.pyx``
and ``_core_blas.pyx`` includes the shared body (with its own primitives,
``_vecops_blas.pxi``), so a mutant of the body reaches every build and one of
``_vecops.pxi`` the two loop builds. Every edit names its file, and its old
snippet must occur exactly once in that file: a snippet that no longer matches,
or matches twice, is an error, and so is a file that ``_core.pyx`` does not
include (the baseline build, which every test run loads, would not carry the
edit) and a kernel module (``_core*.pyx``) that includes neither ``_core.pyx``
nor the shared body (its build would escape the mutants), so the list cannot
silently rot.

Usage::

    python scripts/kernel_mutants.py list
    python scripts/kernel_mutants.py check SRC_DIR [NAME ...]
    python scripts/kernel_mutants.py apply SRC_DIR NAME

SRC_DIR is the package's source directory (``src/item2vec``); ``apply``
rewrites the files there that the mutant edits.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import NamedTuple

# the baseline build's module: every edited file must be it or be included by it
CORE = "_core.pyx"
# the training loops every kernel module must include (directly or through CORE)
BODY = "_core_body.pxi"


class Edit(NamedTuple):
    file: str  # a file of src/item2vec: _core.pyx or a .pxi it includes (directly or not)
    old: str
    new: str


class Mutant(NamedTuple):
    name: str
    description: str
    edits: tuple[Edit, ...]


def _m(name: str, description: str, *edits: tuple[str, str, str]) -> Mutant:
    return Mutant(name, description, tuple(Edit(*edit) for edit in edits))


# Indentation in the snippets is part of the match: 4 spaces per level, as in the source.
MUTANTS: tuple[Mutant, ...] = (
    # --- directional context (context="past") ---
    _m(
        "past_window_ignored",
        "context='past' keeps the items after the centre in its window",
        (
            "_contexts.pxi",
            "        hi = i  # only the items before the centre predict it",
            "        hi = hi  # only the items before the centre predict it",
        ),
    ),
    _m(
        "past_session_pool_whole_sequence",
        "context='past' with window='session' draws contexts from the whole sequence",
        (
            "_contexts.pxi",
            "        n_pool = i if cp.past_only else n - 1",
            "        n_pool = n - 1",
        ),
    ),
    # --- gradients and loss (train_outputs) ---
    _m(
        "positive_gradient_sign",
        "positive pair's gradient is sigma - label instead of label - sigma",
        ("_sgns.pxi", "g[0] = alpha * (1.0 - s)", "g[0] = alpha * (s - 1.0)"),
    ),
    _m(
        "negative_label_one",
        "noise items trained with label 1 instead of 0 (pulled towards the input)",
        ("_sgns.pxi", "g[r] = -alpha * (1.0 - s)", "g[r] = alpha * (1.0 - s)"),
    ),
    _m(
        "loss_sign",
        "loss accumulated with the wrong sign (+= log sigma)",
        (
            "_sgns.pxi",
            "    g[0] = alpha * (1.0 - s)\n    tr.loss -= logsig\n",
            "    g[0] = alpha * (1.0 - s)\n    tr.loss += logsig\n",
        ),
        (
            "_sgns.pxi",
            "        g[r] = -alpha * (1.0 - s)\n        tr.loss -= logsig\n",
            "        g[r] = -alpha * (1.0 - s)\n        tr.loss += logsig\n",
        ),
    ),
    _m(
        "sigmoid_table_shifted",
        "sigmoid/log-sigmoid tables filled one index off (entry i holds x(i + 1))",
        (
            "_sigmoid.pxi",
            "x = (i / SIGMOID_SCALE) - SIGMOID_MAX",
            "x = ((i + 1) / SIGMOID_SCALE) - SIGMOID_MAX",
        ),
    ),
    # --- noise items ---
    _m(
        "noise_alias_ignored",
        "noise draw ignores the alias table (uniform over items)",
        (
            "_alias.pxi",
            "        return <int32_t>k\n    return <int32_t>(entry & 0xFFFFFFFFULL)",
            "        return <int32_t>k\n    return <int32_t>k",
        ),
    ),
    _m(
        "noise_equal_to_target_kept",
        "a noise item equal to the positive target is not skipped",
        ("_sgns.pxi", "        if item != target:\n", "        if True:\n"),
    ),
    _m(
        "duplicate_noise_gradient_dropped",
        "a noise item drawn twice gets only its last gradient, not the sum",
        ("_sgns.pxi", "g[found] += g[r]", "g[found] = g[r]"),
    ),
    # --- learning-rate schedule inside a chunk ---
    _m(
        "alpha_end_ignored",
        "learning rate constant at alpha_begin within a chunk (no decay)",
        (
            "_core_body.pxi",
            "cdef double slope = (alpha_end - alpha_begin) / raw_total if raw_total > 0 else 0.0",
            "cdef double slope = 0.0",
        ),
    ),
    _m(
        "alpha_constant_within_sequence",
        "learning rate only advances between sequences, not along one",
        (
            "_contexts.pxi",
            "alpha = <float>(alpha_begin + slope * (raw_done + i * seq_step))",
            "alpha = <float>(alpha_begin + slope * raw_done)",
        ),
    ),
    _m(
        "alpha_counts_kept_tokens",
        "learning rate advances by kept instead of raw tokens (subsampling shifts it)",
        (
            "_contexts.pxi",
            "alpha = <float>(alpha_begin + slope * (raw_done + i * seq_step))",
            "alpha = <float>(alpha_begin + slope * (raw_done + i))",
        ),
    ),
    # --- windows and contexts (gather_contexts, subsample) ---
    _m(
        "window_always_one",
        "the window parameter is ignored: reach is always 1 (shrunk or not)",
        (
            "_contexts.pxi",
            "reach = cp.window\n"
            "    if cp.shrink_windows:\n"
            "        reach = cp.window - <Py_ssize_t>rng_below(rng, <uint32_t>cp.window)",
            "reach = 1\n"
            "    if cp.shrink_windows:\n"
            "        reach = 1 - <Py_ssize_t>rng_below(rng, <uint32_t>1)",
        ),
    ),
    _m(
        "shrink_windows_ignored",
        "shrink_windows ignored: the window is always full",
        ("_contexts.pxi", "if cp.shrink_windows:", "if False:"),
    ),
    _m(
        "shrink_reach_off_by_one",
        "shrunk reach drawn from [0, window) instead of [1, window]",
        (
            "_contexts.pxi",
            "reach = cp.window - <Py_ssize_t>rng_below(rng, <uint32_t>cp.window)",
            "reach = cp.window - 1 - <Py_ssize_t>rng_below(rng, <uint32_t>cp.window)",
        ),
    ),
    _m(
        "context_excludes_farthest",
        "context range stops one short on the right (farthest right context dropped)",
        (
            "_contexts.pxi",
            "hi = i + reach + 1 if i + reach + 1 < n else n",
            "hi = i + reach if i + reach < n else n",
        ),
    ),
    _m(
        "context_includes_centre",
        "the centre is its own context in a window",
        (
            "_contexts.pxi",
            "for j in range(lo, hi):\n        if j != i:",
            "for j in range(lo, hi):\n        if True:",
        ),
    ),
    _m(
        "subsampling_off",
        "frequent-item subsampling never drops a token (keep_prob ignored)",
        ("_contexts.pxi", "if cp.keep_prob != NULL and cp.keep_prob[w] < 1.0:", "if False:"),
    ),
    # --- CBOW (cbow_contexts) ---
    _m(
        "cbow_mean_sum_swapped",
        "unweighted CBOW: cbow_mean=True sums and cbow_mean=False averages",
        ("_sgns.pxi", "if cbow_mean and n_ctx > 1:", "if not cbow_mean and n_ctx > 1:"),
    ),
    _m(
        "cbow_input_gradient_dropped",
        "CBOW never applies the input-side gradient to the context vectors",
        (
            "_sgns.pxi",
            "spread_rows(n, tr.neu1e, ctx_rows, <int>n_ctx, scale)",
            "spread_rows(n, tr.neu1e, ctx_rows, 0, scale)",
        ),
    ),
    _m(
        "cbow_context_weight_not_in_gradient",
        "weighted CBOW: each context gets the whole gradient, not times its weight",
        (
            "_sgns.pxi",
            "spread_rows(n, tr.neu1e, ctx_rows, <int>n_ctx, scale)",
            "spread_rows(n, tr.neu1e, ctx_rows, <int>n_ctx, NULL)",
        ),
    ),
    _m(
        "cbow_weighted_mean_not_normalised",
        "weighted CBOW mean: raw weights (not relative to the largest) times 1 / their sum",
        ("_sgns.pxi", "        w = share\n", "        w = scale\n"),
    ),
    # --- skip-gram (skipgram_contexts) ---
    _m(
        "skipgram_input_from_syn1neg",
        "skip-gram reads and updates the context's output row instead of its input row",
        (
            "_sgns.pxi",
            "l1 = tr.syn0 + <int64_t>seq[ctx[c]] * n",
            "l1 = tr.syn1 + <int64_t>seq[ctx[c]] * n",
        ),
    ),
    # --- event weights and times (scale_contexts, train_sequence) ---
    _m(
        "weights_context_ignored",
        "the context item's weight is ignored (pair scale starts at 1)",
        ("_contexts.pxi", "pair = sq.weights[j] if sq.weights != NULL else 1.0", "pair = 1.0"),
    ),
    _m(
        "weights_centre_ignored_cbow",
        "CBOW ignores the centre item's weight (learning rate not scaled)",
        ("_contexts.pxi", "centre_alpha = alpha * sq.weights[i]", "centre_alpha = alpha"),
    ),
    _m(
        "time_decay_sign",
        "time decay grows with the gap: exp(+dt / time_decay)",
        ("_contexts.pxi", "pair *= exp(-dt / cp.time_decay)", "pair *= exp(dt / cp.time_decay)"),
    ),
    _m(
        "time_window_inclusive",
        "a gap exactly equal to time_window is skipped (> became >=)",
        (
            "_contexts.pxi",
            "if cp.time_window > 0 and dt > cp.time_window:",
            "if cp.time_window > 0 and dt >= cp.time_window:",
        ),
    ),
    _m(
        "session_all_bound_off_by_one",
        "session contexts sampled (with replacement) already when the pool == session_contexts",
        ("_contexts.pxi", "if n_pool <= cp.session_contexts:", "if n_pool < cp.session_contexts:"),
    ),
    _m(
        "session_draw_includes_centre",
        "sampled session contexts can be the centre and never its right neighbour",
        (
            "_contexts.pxi",
            "ctx[n_ctx] = j + 1 if j >= i else j",
            "ctx[n_ctx] = j + 1 if j > i else j",
        ),
    ),
    # --- interruption (train_chunk) ---
    _m(
        "stop_flag_ignored",
        "the stop flag is never read: a chunk always runs to its end",
        ("_core_body.pxi", "if read_flag(stop_flag):", "if False and read_flag(stop_flag):"),
    ),
    # --- exact top-k (topk_merge / insert_sorted) ---
    _m(
        "topk_keeps_worst",
        "a score enters the top-k when it is below the k-th best instead of above",
        ("_topk.pxi", "if v > thr:", "if v < thr:"),
    ),
    _m(
        "topk_tie_rule_flipped",
        "on equal scores the later column goes first",
        ("_topk.pxi", "while p > 0 and top[p - 1] < v:", "while p > 0 and top[p - 1] <= v:"),
    ),
    _m(
        "topk_nan_guard_dropped",
        "a NaN in a 16-lane block can hide a candidate from the max tree",
        ("_topk.pxi", "return m[0] <= thr && s[0] == s[0];", "return m[0] <= thr;"),
    ),
    # --- the AVX2 build's vector primitives (_vecops.pxi, AVX2 + FMA branch) ---
    _m(
        "avx2_update_tail_one_lane_short",
        "AVX2: the masked tail of a row update covers one float too few",
        (
            "_vecops.pxi",
            "(i2v_lane_mask + 8 - (n - k)));\n            xv = _mm256_maskload_ps(x + k, mask);\n"
            "            av = _mm256_maskload_ps(acc + k, mask);",
            "(i2v_lane_mask + 9 - (n - k)));\n            xv = _mm256_maskload_ps(x + k, mask);\n"
            "            av = _mm256_maskload_ps(acc + k, mask);",
        ),
    ),
    _m(
        "avx2_multi_pass_gradient_dropped",
        "AVX2: with more rows than one pass holds, skip-gram's input row never gets its gradient",
        (
            "_vecops.pxi",
            "        if (apart)\n            for (k = 0; k < n; k++) acc[k] += scratch[k];\n"
            "    }\n\n",
            "        if (0)\n            for (k = 0; k < n; k++) acc[k] += scratch[k];\n    }\n\n",
        ),
    ),
    _m(
        "avx2_sum_rows_skips_last_context",
        "AVX2: CBOW's hidden layer leaves out the last context row (whole blocks)",
        (
            "_vecops.pxi",
            "            for (r = 0; r < n_rows; r++) {\n                p = rows[r] + k0;\n"
            "                for (b = 0; b < NB; b++) s[b] = _mm256_add_ps(",
            "            for (r = 0; r + 1 < n_rows; r++) {\n                p = rows[r] + k0;\n"
            "                for (b = 0; b < NB; b++) s[b] = _mm256_add_ps(",
        ),
    ),
    _m(
        "avx2_spread_rows_skips_first_context",
        "AVX2: CBOW's gradient never reaches the first context row (whole blocks)",
        (
            "_vecops.pxi",
            "            for (r = 0; r < n_rows; r++) {\n                p = rows[r] + k0;\n"
            "                for (b = 0; b < NB; b++)\n"
            "                    _mm256_storeu_ps(p + 8 * b, _mm256_add_ps(",
            "            for (r = 1; r < n_rows; r++) {\n                p = rows[r] + k0;\n"
            "                for (b = 0; b < NB; b++)\n"
            "                    _mm256_storeu_ps(p + 8 * b, _mm256_add_ps(",
        ),
    ),
)


def find(name: str) -> Mutant:
    for mutant in MUTANTS:
        if mutant.name == name:
            return mutant
    raise SystemExit(f"error: no kernel mutant named {name!r} (see: list)")


def included(src: Path, module: str = CORE) -> set[str]:
    """The files ``module`` includes, directly or through the files it includes.

    Includes are ``include "X"`` lines at the start of a line, X in ``src``.
    """
    found: set[str] = set()
    pending = [module]
    while pending:
        text = (src / pending.pop()).read_text(encoding="utf-8")
        for name in re.findall(r'^include "([^"]+)"', text, flags=re.MULTILINE):
            if name not in found:
                found.add(name)
                pending.append(name)
    return found


def check_builds(src: Path) -> None:
    """Every kernel module (``_core*.pyx``) must include CORE or the shared body."""
    for module in sorted(path.name for path in src.glob("_core*.pyx")):
        reached = included(src, module)
        if module != CORE and CORE not in reached and BODY not in reached:
            raise SystemExit(
                f"error: {module} includes neither {CORE} nor {BODY}:"
                " its build would escape the mutants"
            )


def mutate(src: Path, mutant: Mutant) -> dict[str, str]:
    """The mutated text of each file the mutant edits (nothing is written).

    Every edited file must be ``_core.pyx`` or included by it (directly or
    not), and every old snippet must occur exactly once in its file (after the
    mutant's earlier edits of that file).
    """
    pieces = included(src)
    texts: dict[str, str] = {}
    for edit in mutant.edits:
        if edit.old == edit.new:
            raise SystemExit(f"error: mutant {mutant.name!r}: an edit changes nothing")
        if edit.file != CORE and edit.file not in pieces:
            raise SystemExit(
                f"error: mutant {mutant.name!r}: {edit.file} is not {CORE} nor included by it"
                " (directly or through another piece), so the baseline build would not carry"
                " the edit"
            )
        if edit.file not in texts:
            path = src / edit.file
            if not path.is_file():
                raise SystemExit(f"error: mutant {mutant.name!r}: no file {path}")
            texts[edit.file] = path.read_text(encoding="utf-8")
        count = texts[edit.file].count(edit.old)
        if count != 1:
            raise SystemExit(
                f"error: mutant {mutant.name!r}: snippet found {count} times in {edit.file}"
                f" (need exactly 1):\n{edit.old}"
            )
        texts[edit.file] = texts[edit.file].replace(edit.old, edit.new)
    return texts


def main(argv: list[str]) -> int:
    names = [m.name for m in MUTANTS]
    if len(set(names)) != len(names):
        raise SystemExit("error: duplicate mutant names")
    if argv[:1] == ["list"] and len(argv) == 1:
        for mutant in MUTANTS:
            files = ",".join(dict.fromkeys(edit.file for edit in mutant.edits))
            print(f"{mutant.name}\t{files}\t{mutant.description}")
        return 0
    if argv[:1] == ["check"] and len(argv) >= 2:
        src = Path(argv[1])
        check_builds(src)
        for name in argv[2:] or names:
            mutate(src, find(name))
        return 0
    if argv[:1] == ["apply"] and len(argv) == 3:
        src = Path(argv[1])
        for file, text in mutate(src, find(argv[2])).items():
            (src / file).write_text(text, encoding="utf-8")
        return 0
    print(__doc__.split("Usage::", 1)[1].strip("\n"), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
