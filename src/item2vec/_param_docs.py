"""The parameter table of ``_params`` written out for people: README's table and the CLI's help.

Names, defaults and the first words of every meaning come from the
``Param`` rows, so the documentation cannot state a default the code does not
use. ``python -m item2vec._param_docs README.md`` rewrites the README's table
between its markers; ``tests/test_docs_drift.py`` fails when it is stale.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from item2vec._params import ITEM2VEC_PARAMS, Param

__all__ = ["README_BEGIN", "README_END", "cli_default", "readme_table", "rewrite_readme"]

README_BEGIN = (
    "<!-- parameters: generated from src/item2vec/_params.py by "
    "`python -m item2vec._param_docs README.md`; do not edit by hand -->"
)
README_END = "<!-- end of parameters -->"

# what the README says beyond a parameter's help text (no defaults here: they come from the rows)
README_NOTES: dict[str, str] = {
    "ns_exponent": "0 uniform, < 0 favours rare items",
    "sample": "word2vec uses 1e-3 for text",
    "epochs": "exactly `150 / sqrt(tokens per item)`, rounded and kept within 5..50",
    "min_alpha": "the rate decays linearly from `alpha` over all epochs",
    "session_contexts": "sampled from longer sessions",
    "shared_negatives": "shared by its window, which is faster; False is word2vec's per-pair "
    "scheme",
    "use_weights": "read from `Sequences.weights`; weight 0 = absent",
    "time_decay": "times from `Sequences.times`",
    "random_state": "with `n_jobs=1` runs are bit-identical",
    "verbose": "on a terminal with tokens/s, epoch and loss (tqdm's if installed), "
    "elsewhere one line per epoch",
}
README_AFTER = (
    'The rows starting with "queries:" are the query options `recommend`, '
    "`recommend_batch`, `score` and `item2vec recommend` use unless a call passes its own."
)


def readme_default(value: Any) -> str:
    """A default as the README's table spells it: strings in double quotes, the rest as repr."""
    return f'"{value}"' if isinstance(value, str) else repr(value)


def cli_default(value: Any) -> str:
    """A default as ``--help`` spells it (``str``, as argparse would print it)."""
    return str(value)


def _meaning(param: Param) -> str:
    note = README_NOTES.get(param.name)
    text = param.help.replace("|", "\\|")
    return f"{text}; {note}" if note else text


def readme_table(params: Iterable[Param] = ITEM2VEC_PARAMS) -> str:
    """The Markdown table of ``params`` (with its markers and the note below it)."""
    lines = [README_BEGIN, "", "| parameter | default | meaning |", "| --- | --- | --- |"]
    for param in params:
        lines.append(f"| `{param.name}` | {readme_default(param.default)} | {_meaning(param)} |")
    return "\n".join([*lines, "", README_AFTER, "", README_END])


def readme_section(text: str) -> tuple[int, int]:
    """Where the generated table sits in a README's ``text``: (start, end) offsets.

    Raises
    ------
    ValueError
        If the markers are missing, repeated, or out of order.
    """
    start, end = text.find(README_BEGIN), text.find(README_END)
    if start < 0 or end < start or text.count(README_BEGIN) != 1 or text.count(README_END) != 1:
        raise ValueError(
            f"the README needs one line {README_BEGIN!r} and, after it, one line {README_END!r}"
        )
    return start, end + len(README_END)


def rewrite_readme(path: str | Path) -> bool:
    """Put the current table between the markers of the README at ``path``; True if it changed."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    start, end = readme_section(text)
    new = text[:start] + readme_table() + text[end:]
    if new == text:
        return False
    # beside the README, then renamed over it: a failed write leaves the old file whole
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        scratch.write_text(new, encoding="utf-8")
        os.replace(scratch, path)
    finally:
        scratch.unlink(missing_ok=True)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m item2vec._param_docs README.md``: rewrite the table in place."""
    args = sys.argv[1:] if argv is None else list(argv)
    if len(args) != 1:
        print("usage: python -m item2vec._param_docs README.md", file=sys.stderr)
        return 2
    changed = rewrite_readme(args[0])
    print(f"{args[0]}: {'table rewritten' if changed else 'table already current'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
