"""Sphinx extension of the item2vec documentation.

Directives
----------
``readme``
    One section of the repository's README.md, the single source of the guide's
    text: ``{readme} ### Threads`` puts the text under that heading (up to the next
    heading) into the page. ``:start-at:`` and ``:end-before:`` cut it at blocks
    (paragraph, list item, table, code fence) that start with the given text. A
    heading or a block that is not found once is an error, so a README edit that
    moves them breaks the build instead of the pages.
``example-run``
    Runs one script of ``examples/`` at build time (matplotlib on Agg, no
    network) and shows its source, its standard output and the pictures it
    saved. Scripts that read MovieLens get a small generated stand-in folder
    (``{movielens}`` in ``:args:``), so the build needs no data set.
``command-help``
    The ``--help`` text of ``item2vec`` and its commands, as the installed
    command line prints it.
``extras-table``
    The optional extras of ``pyproject.toml`` and what each installs.

References
----------
Docstrings say ``:class:`Sequences``` or ``:meth:`update``` without the module.
A reference that Sphinx cannot resolve as written is looked up once more as if
written ``.name`` (the unique object whose name ends so); one that still does
not resolve, or resolves to more than one object, stays an error.

Objects re-exported by ``item2vec`` (``item2vec.__all__``) are documented once,
under their public name (``public-api`` directive); the module pages leave them out.

Checks
------
The build warns (an error with ``-W``) when a README section is in no page, and
when a public module ``item2vec.NAME`` has no page ``docs/api/item2vec.NAME.rst``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

DOCS = Path(__file__).resolve().parents[1]
REPO = DOCS.parent
EXAMPLES = REPO / "examples"
# the scripts run here; under docs/_build (git-ignored) so that pages can show their pictures
RUNS = DOCS / "_build" / "example-runs"
RUNS_URI = "/_build/example-runs"  # the same folder as an image path relative to docs/

logger = logging.getLogger(__name__)


# --- README sections ------------------------------------------------------------------

README = REPO / "README.md"
_FENCE = re.compile(r"^(```|~~~)")
_HEADING = re.compile(r"^(#{1,6}) +\S")


def readme_blocks(lines: list[str]) -> list[tuple[int, str]]:
    """Each block's first line (index, text): headings, paragraphs, list items, table
    rows' first line, fences. Lines inside code fences start no block."""
    starts: list[tuple[int, str]] = []
    fenced = False
    previous_blank = True
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            if not fenced:
                starts.append((index, line))
            fenced = not fenced
            previous_blank = False
            continue
        if fenced:
            continue
        blank = not line.strip()
        if not blank and (previous_blank or _HEADING.match(line) or line.startswith("- ")):
            starts.append((index, line))
        previous_blank = blank or bool(_HEADING.match(line))
    return starts


def readme_section(
    heading: str, start_at: str | None = None, end_before: str | None = None
) -> tuple[list[str], int]:
    """The lines under ``heading`` up to the next heading, cut by the block options;
    and the index of the first line returned."""
    lines = README.read_text(encoding="utf-8").splitlines()
    blocks = readme_blocks(lines)
    headings = [(i, line.rstrip()) for i, line in blocks if _HEADING.match(line)]
    found = [i for i, line in headings if line == heading.strip()]
    if len(found) != 1:
        listed = "\n  ".join(line for _, line in headings)
        raise ValueError(
            f"README.md has {'no' if not found else len(found)} heading {heading!r} "
            f"(it has:\n  {listed})"
        )
    begin = found[0] + 1
    end = next((i for i, _ in headings if i > found[0]), len(lines))
    inside = [(i, line) for i, line in blocks if begin <= i < end]
    for option, text in (("start-at", start_at), ("end-before", end_before)):
        if text is None:
            continue
        hits = [i for i, line in inside if line.startswith(text)]
        if len(hits) != 1:
            raise ValueError(
                f"README.md's section {heading!r} has {len(hits)} blocks starting with "
                f"{text!r} (:{option}: wants one)"
            )
        if option == "start-at":
            begin = hits[0]
        else:
            end = hits[0]
    if begin >= end:
        raise ValueError(f"README.md's section {heading!r}: nothing between the cuts")
    return lines[begin:end], begin


class ReadmeSection(SphinxDirective):
    """The text of one README.md section, parsed as part of this page."""

    required_arguments = 1
    final_argument_whitespace = True
    option_spec = {  # noqa: RUF012  (docutils reads it from the class)
        "start-at": directives.unchanged_required,
        "end-before": directives.unchanged_required,
    }

    def run(self) -> list[nodes.Node]:
        self.env.note_dependency(str(README))
        try:
            lines, first = readme_section(
                self.arguments[0], self.options.get("start-at"), self.options.get("end-before")
            )
        except ValueError as exc:
            raise self.error(str(exc)) from None
        included = getattr(self.env, "item2vec_readme", {})
        included.setdefault(self.env.docname, set()).add(self.arguments[0].strip())
        self.env.item2vec_readme = included
        content = StringList(lines, source=str(README), items=[
            (str(README), first + k) for k in range(len(lines))
        ])  # fmt: skip
        container = nodes.container()
        self.state.nested_parse(content, 0, container)
        return container.children


def _purge_readme(app: Sphinx, env: Any, docname: str) -> None:
    getattr(env, "item2vec_readme", {}).pop(docname, None)


def _merge_readme(app: Sphinx, env: Any, docnames: Any, other: Any) -> None:
    mine = getattr(env, "item2vec_readme", {})
    mine.update(getattr(other, "item2vec_readme", {}))
    env.item2vec_readme = mine


def _check_readme_coverage(app: Sphinx, env: Any) -> None:
    """Every README section is in some guide page: a new one fails the build until a
    page includes it."""
    included = set().union(*getattr(env, "item2vec_readme", {}).values())
    lines = README.read_text(encoding="utf-8").splitlines()
    for index, line in readme_blocks(lines):
        if _HEADING.match(line) and line.rstrip() not in included:
            logger.warning(
                f"README.md section {line.rstrip()!r} is in no page of the documentation: "
                "include it in a docs/guide page with the readme directive",
                location=f"{README}:{index + 1}",
            )


# --- running scripts --------------------------------------------------------------------


def _child_env() -> dict[str, str]:
    """The build's environment, with this item2vec first on the path and no display."""
    import item2vec

    env = dict(os.environ)
    package_root = str(Path(item2vec.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    env.update(MPLBACKEND="Agg", PYTHONUTF8="1", PYTHONIOENCODING="utf-8", COLUMNS="80")
    env.update(NO_COLOR="1", PYTHON_COLORS="0", TERM="dumb")
    return env


def _run(argv: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *argv],
        cwd=cwd,
        env=_child_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
        check=False,
    )


def movielens_standin(folder: Path) -> Path:
    """A small folder in the MovieLens-100K layout (``u.data``, ``u.item``), generated.

    2,000 users who each rate films of one planted cluster, over a few days; each
    cluster is one genre, so a map coloured by genre shows whether the vectors
    found the clusters. Written once per build.
    """
    import numpy as np

    from item2vec.datasets import planted_sessions

    if (folder / "u.item").exists():
        return folder
    data = planted_sessions(
        n_sessions=2_000, n_items=300, n_clusters=5, mean_length=20, random_state=0
    )
    rng = np.random.default_rng(0)
    rows = []
    for user, films in enumerate(data.sequences, start=1):
        start = 880_000_000 + int(rng.integers(0, 10**7))
        steps = np.cumsum(rng.integers(60, 86_400, size=len(films))).tolist()
        ratings = rng.integers(1, 6, size=len(films)).tolist()
        for film, step, rating in zip(films.tolist(), steps, ratings, strict=True):
            rows.append(f"{user}\t{film + 1}\t{rating}\t{start + step}\n")
    catalogue = []
    for film, cluster in enumerate(data.cluster_of.tolist()):
        flags = ["0"] * 19  # MovieLens-100K's genre flags; flag 0 is "unknown"
        flags[1 + cluster] = "1"
        catalogue.append(f"{film + 1}|Film {film + 1} (1995)|01-Jan-1995||x|{'|'.join(flags)}\n")
    # written beside the folder, then renamed: parallel readers never see half a folder
    tmp = folder.with_name(f"{folder.name}.{os.getpid()}.tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "u.data").write_text("".join(rows), encoding="utf-8")
    (tmp / "u.item").write_text("".join(catalogue), encoding="latin-1")
    try:
        os.replace(tmp, folder)
    except OSError:  # another reader of the build wrote it first
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


class ExampleRun(SphinxDirective):
    """Run ``examples/NAME`` and show its source, output and saved pictures.

    Options: ``:args:`` the command-line arguments (``{movielens}`` stands for the
    generated MovieLens folder), ``:images:`` the PNG files it writes in its working
    folder (space-separated), ``:timeout:`` in seconds (default 120).
    """

    required_arguments = 1
    option_spec = {  # noqa: RUF012  (docutils reads it from the class)
        "args": directives.unchanged,
        "images": directives.unchanged,
        "timeout": directives.positive_int,
    }

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        script = EXAMPLES / name
        if not script.is_file():
            raise self.error(f"no example script {script}")
        self.env.note_dependency(str(script))
        workdir = RUNS / script.stem
        workdir.mkdir(parents=True, exist_ok=True)
        args = shlex.split(self.options.get("args", ""))
        if any("{movielens}" in a for a in args):
            folder = str(movielens_standin(RUNS / "_data" / "ml-100k"))
            args = [a.replace("{movielens}", folder) for a in args]
        images = self.options.get("images", "").split()
        for image in images:
            (workdir / image).unlink(missing_ok=True)
        started = time.perf_counter()
        try:
            done = _run([str(script), *args], workdir, self.options.get("timeout", 120))
        except subprocess.TimeoutExpired as exc:
            raise self.error(f"examples/{name} did not finish in {exc.timeout} s") from None
        seconds = time.perf_counter() - started
        logger.info(f"[example-run] examples/{name}: {seconds:.1f} s")
        if done.returncode != 0:
            raise self.error(
                f"examples/{name} failed (exit status {done.returncode}):\n"
                f"{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
            )
        given = self.options.get("args", "").replace("{movielens}", "ml-100k")
        shown = f"python examples/{name} {given}".rstrip()
        source = nodes.literal_block(text=script.read_text(encoding="utf-8"), language="python")
        result: list[nodes.Node] = [_captioned(f"examples/{name}", source)]
        command = nodes.literal_block(text=shown, language="bash")
        result.append(_captioned(f"run at build time ({seconds:.1f} s)", command))
        output = nodes.literal_block(text=done.stdout.rstrip() or "(no output)", language="text")
        result.append(_captioned("its output", output))
        for image in images:
            if not (workdir / image).is_file():
                raise self.error(f"examples/{name} did not write {image}")
            uri = f"{RUNS_URI}/{script.stem}/{image}"
            result.append(nodes.image(uri=uri, alt=f"{image}, drawn by examples/{name}"))
        return result


def _captioned(caption: str, block: nodes.literal_block) -> nodes.container:
    """A literal block with a caption, as ``code-block`` makes it."""
    container = nodes.container("", literal_block=True, classes=["literal-block-wrapper"])
    container += nodes.caption(caption, "", nodes.literal(caption, caption))
    container += block
    return container


class CommandHelp(SphinxDirective):
    """``item2vec --help`` and ``item2vec COMMAND --help`` for every command, each in
    a section of its own, as the installed command line prints them."""

    def run(self) -> list[nodes.Node]:
        import argparse

        from item2vec import cli

        commands = [
            name
            for action in cli._build_parser()._actions
            if isinstance(action, argparse._SubParsersAction)
            for name in action.choices
        ]
        if not commands:
            raise self.error("item2vec.cli._build_parser() has no commands")
        self.env.note_dependency(cli.__file__)
        lines: list[str] = []
        for command in ["", *commands]:
            code = "import sys; from item2vec.cli import main; sys.exit(main())"
            argv = ["-c", code, *([command] if command else []), "--help"]
            done = _run(argv, REPO, 60)
            if done.returncode != 0:
                raise self.error(f"item2vec {command} --help failed:\n{done.stderr}")
            title = f"item2vec {command}".strip()
            lines += [f"## `{title}`", "", "```text", *done.stdout.rstrip().splitlines()]
            lines += ["```", ""]
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source="item2vec --help"), 0, container,
                                match_titles=True)  # fmt: skip
        return container.children


class ExtrasTable(SphinxDirective):
    """A table of pyproject.toml's optional dependencies: ``pip install 'item2vec[NAME]'``."""

    def run(self) -> list[nodes.Node]:
        pyproject = REPO / "pyproject.toml"
        self.env.note_dependency(str(pyproject))
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover
            import tomli as tomllib
        with pyproject.open("rb") as handle:
            extras = tomllib.load(handle)["project"]["optional-dependencies"]
        table = nodes.table()
        group = nodes.tgroup(cols=2)
        table += group
        group += [nodes.colspec(colwidth=1), nodes.colspec(colwidth=3)]
        head = nodes.thead()
        group += head
        head += _row("extra", "installs")
        body = nodes.tbody()
        group += body
        for name, requirements in extras.items():
            packages = ", ".join(re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0] for r in requirements)
            body += _row(f"item2vec[{name}]", packages, literal=True)
        return [table]


def _row(first: str, second: str, literal: bool = False) -> nodes.row:
    row = nodes.row()
    for i, text in enumerate((first, second)):
        entry = nodes.entry()
        inline = nodes.literal(text, text) if literal and i == 0 else nodes.Text(text)
        entry += nodes.paragraph("", "", inline)
        row += entry
    return row


# --- references and the API pages -------------------------------------------------------


class PublicApi(SphinxDirective):
    """autodoc entries for every name in ``item2vec.__all__``: classes (with their
    inherited members), exceptions, functions, then data."""

    def run(self) -> list[nodes.Node]:
        import item2vec

        kinds: dict[str, list[str]] = {"class": [], "exception": [], "function": [], "data": []}
        for name in item2vec.__all__:
            obj = getattr(item2vec, name)
            if isinstance(obj, type):
                kind = "exception" if issubclass(obj, BaseException) else "class"
            else:
                kind = "function" if callable(obj) else "data"
            kinds[kind].append(name)
        lines = []
        for kind, names in kinds.items():
            for name in names:
                lines.append(f".. auto{kind}:: item2vec.{name}")
                if kind == "class":
                    lines += ["   :members:", "   :inherited-members:"]
                lines.append("")
        content = StringList(lines, source="item2vec.__all__")
        container = nodes.container()
        self.state.nested_parse(content, 0, container)
        return container.children


def _public_modules() -> list[str]:
    """item2vec's modules whose names do not start with an underscore (the CLI aside:
    its page is the guide's command line page)."""
    import pkgutil

    import item2vec

    return sorted(
        f"item2vec.{m.name}"
        for m in pkgutil.iter_modules(item2vec.__path__)
        if not m.name.startswith("_") and m.name != "cli"
    )


def _check_module_pages(app: Sphinx) -> None:
    """Every public module has its API page (docs/api/item2vec.NAME.rst)."""
    for module in _public_modules():
        if not (Path(app.srcdir) / "api" / f"{module}.rst").is_file():
            logger.warning(
                f"public module {module} has no API page: add docs/api/{module}.rst "
                f"(like the others) and list it in docs/api/index.md"
            )


def _resolve_unqualified(
    app: Sphinx, env: Any, node: Any, contnode: nodes.Element
) -> nodes.Element | None:
    """Resolve a Python reference that failed as written, as if written ``.name``.

    ``item2vec.module.name`` resolves to ``item2vec.name`` when that is the same
    object; a type from a private module (``item2vec._training.TrainingRecord`` in a
    signature) has no page and shows as plain text.
    """
    if node.get("refdomain") != "py" or node.get("refspecific"):
        return None
    target = node["reftarget"]
    if target.startswith("item2vec.") and target.count(".") >= 2:
        # item2vec.module.name: the object may be documented under its public name
        public = "item2vec." + target.rsplit(".", 1)[1]
        if _lookup(target) is not None and _lookup(target) is _lookup(public):
            target = public
    node["refspecific"] = True
    domain = env.get_domain("py")
    found = domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], target, node, contnode
    )
    if found is not None:
        return found  # type: ignore[no-any-return]
    for dotted in (target, f"{node.get('py:module')}.{target}"):
        obj = _lookup(dotted)
        if obj is not None and getattr(obj, "__module__", "").startswith("item2vec._"):
            return contnode
    return None


def _lookup(dotted: str) -> Any:
    """The object a dotted name names, or None."""
    import importlib

    module, _, attr = dotted.rpartition(".")
    try:
        return getattr(importlib.import_module(module), attr, None)
    except (ImportError, ValueError):
        return None


def _skip_member(
    app: Sphinx, what: str, name: str, obj: Any, skip: bool, options: Any
) -> bool | None:
    """Which members the API pages show, beyond autodoc's documented public ones.

    On a module's page, what ``item2vec`` documents under its public name is left
    out. In a class, a public method without a docstring is shown all the same (it is
    part of the API, and other docstrings may refer to it), and a NamedTuple's fields
    are left out: their docstring only says "Alias for field number N", the class
    signature names them and its docstring's Attributes section describes them.
    """
    import inspect

    import item2vec

    if what == "module":
        public = {id(getattr(item2vec, n)) for n in item2vec.__all__ if n != "__version__"}
        return True if id(obj) in public else None
    doc = getattr(obj, "__doc__", None)
    if isinstance(doc, str) and doc.startswith("Alias for field number"):
        return True
    if skip and not name.startswith("_") and inspect.isroutine(obj):
        return False
    return None


class MetricsAreNotEmails(SphinxTransform):
    """Docutils links any ``name@host`` as an e-mail address; HR@10 and NDCG@10 are
    metrics at a cut-off: back to text."""

    default_priority = 500

    def apply(self, **kwargs: Any) -> None:
        for ref in list(self.document.findall(nodes.reference)):
            if ref.get("refuri", "").startswith("mailto:") and re.fullmatch(
                r"[A-Za-z]+@\d+", ref.astext()
            ):
                ref.replace_self(nodes.Text(ref.astext()))


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_transform(MetricsAreNotEmails)
    app.add_directive("readme", ReadmeSection)
    app.add_directive("public-api", PublicApi)
    app.add_directive("example-run", ExampleRun)
    app.add_directive("command-help", CommandHelp)
    app.add_directive("extras-table", ExtrasTable)
    app.connect("builder-inited", _check_module_pages)
    app.connect("env-purge-doc", _purge_readme)
    app.connect("env-merge-info", _merge_readme)
    app.connect("env-check-consistency", _check_readme_coverage)
    app.connect("missing-reference", _resolve_unqualified)
    app.connect("autodoc-skip-member", _skip_member)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
