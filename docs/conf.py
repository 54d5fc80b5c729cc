"""Sphinx configuration of the item2vec documentation (build it with scripts/build_docs.sh).

The guide pages include their text from the repository's README.md, the API
reference comes from the docstrings (numpydoc), and the examples are run at
build time (docs/_ext/item2vec_docs.py); nothing here reaches the network.
"""

from __future__ import annotations

import sys
from pathlib import Path

import item2vec

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))

project = "item2vec"
author = "item2vec developers"
copyright = "item2vec developers, MIT License"
release = item2vec.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "item2vec_docs",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "README.md", "Thumbs.db", ".DS_Store"]
templates_path: list[str] = []

# the README's headings become anchors, so pages can link to its sections
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]
suppress_warnings = [
    # the README's code blocks are Python, bash or plain text: nothing to highlight lazily
    "misc.highlighting_failure",
]

# --- API reference ------------------------------------------------------------------------

autodoc_member_order = "bysource"
autodoc_default_options = {"members": True}
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autoclass_content = "class"

numpydoc_show_class_members = False  # autodoc's :members: lists them
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False  # the types are prose ("int32 array of shape (n,)")
numpydoc_validation_checks: set[str] = set()

# Nitpicky mode (-n) reports every reference it cannot resolve. The build stays
# offline (no intersphinx), so types from other packages cannot resolve: they are
# listed here. A reference to item2vec's own API that does not resolve is an error.
_OTHER_PACKAGES = (
    "numpy",
    "np",
    "npt",
    "scipy",
    "pandas",
    "pd",
    "pyarrow",
    "pa",
    "polars",
    "pyspark",
    "matplotlib",
    "faiss",
    "duckdb",
    "sklearn",
    "typing",
    "collections",
    "os",
    "pathlib",
    "threading",
    "argparse",
    "fastapi",
    "starlette",
)
nitpick_ignore_regex = [
    (r"py:.*", rf"({'|'.join(_OTHER_PACKAGES)})(\..+)?"),
]

# --- HTML ---------------------------------------------------------------------------------

html_theme = "furo"
html_title = f"item2vec {release}"
html_static_path: list[str] = []
html_show_sourcelink = False
html_copy_source = False
