"""The package's structure: no import cycles, one table of parameter rules, old files load."""

import ast
import inspect
import json
from pathlib import Path

import numpy as np
import pytest

import item2vec
from item2vec import Item2Vec
from item2vec._params import BASELINE_PARAMS, ITEM2VEC_PARAMS
from item2vec.baselines import ItemKNN
from item2vec.cli import _build_parser

PACKAGE = Path(item2vec.__file__).parent
DATA = Path(__file__).parent / "data"


def _imports_of(path: Path) -> set[str]:
    """Modules of the package imported anywhere in a file (inside functions too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "item2vec":
                found.add("__init__")
                found.update(a.name for a in node.names if (PACKAGE / f"{a.name}.py").exists())
            elif node.module.startswith("item2vec."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("item2vec."):
                    found.add(alias.name.split(".")[1])
    return found


def test_no_module_imports_itself_back():
    graph = {p.stem: _imports_of(p) for p in PACKAGE.glob("*.py")}
    path: list[str] = []
    done: set[str] = set()

    def visit(module):
        if module in path:
            cycle = [*path[path.index(module) :], module]
            pytest.fail(f"import cycle: {' -> '.join(cycle)}")
        if module in done or module not in graph:
            return
        path.append(module)
        for target in sorted(graph[module]):
            visit(target)
        path.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)


def test_import_scan_sees_imports_inside_functions():
    # the scan itself: model.py imports io only inside methods
    assert "io" in _imports_of(PACKAGE / "model.py")


@pytest.mark.parametrize(
    ("cls", "table"), [(Item2Vec, ITEM2VEC_PARAMS), (ItemKNN, BASELINE_PARAMS)]
)
def test_the_parameter_table_matches_the_signature(cls, table):
    signature = inspect.signature(cls.__init__).parameters
    assert [p.name for p in table] == [n for n in signature if n != "self"]
    for param in table:
        assert signature[param.name].default == param.default, param.name


def test_the_command_line_offers_every_training_parameter_of_the_table():
    fit = _build_parser()._subparsers._group_actions[0].choices["fit"]
    defaults = {a.dest: a.default for a in fit._actions}
    for param in ITEM2VEC_PARAMS:
        if param.cli:
            assert defaults[param.name] == param.default, param.name


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("window", 2**31, "window must be <= 2147483647"),
        ("negative", 2**31, "negative must be <= 2147483647"),
        ("session_contexts", 0, "session_contexts must be an int >= 1"),
        ("recommend_scoring", "dot", "recommend_scoring must be 'output' or 'cosine'"),
        ("n_jobs", 0, "n_jobs must be a non-zero int or None"),
        ("min_alpha", 0.5, r"min_alpha must be <= alpha .* got min_alpha=0.5 > alpha=0.025"),
    ],
)
def test_the_table_refuses_values_outside_its_rules(name, value, message):
    with pytest.raises(ValueError, match=message):
        Item2Vec(**{name: value}).fit([["a", "b"]])


def test_a_model_saved_in_format_1_still_loads():
    # written by the release before the fitted state became one object
    expected = json.loads((DATA / "model_format1.json").read_text())
    model = Item2Vec.load(DATA / "model_format1.npz")
    assert model.items_.tolist() == expected["items"]
    assert model.vocabulary_.counts.tolist() == expected["counts"]
    np.testing.assert_array_equal(model.vectors_, np.float32(expected["vectors"]))
    np.testing.assert_array_equal(model.output_vectors_, np.float32(expected["output_vectors"]))
    assert model.features_.tolist() == expected["features"]
    np.testing.assert_array_equal(model.feature_vectors_, np.float32(expected["feature_vectors"]))
    assert model.loss_history_ == expected["loss_history"]
    assert model.n_updates_ == expected["n_updates"]
    assert model._record.seed == expected["seed"]
    assert sorted(model._record.pending_counts.items()) == [tuple(p) for p in expected["pending"]]
    # that release had no directional context and no remembered query options: the
    # model loads with the symmetric window and plain queries (items compared by their
    # input vectors), as it behaved then
    plain = {"context": "both", "last_n": None, "half_life": None, "time_half_life": None,
             "similarity": "input"}  # fmt: skip
    expected_params = {**expected["params"], **plain, "popularity": 0.0}
    assert {k: v for k, v in model.get_params().items() if k != "callbacks"} == expected_params
    # and it trains on: the pending item joins once it reaches min_count
    model.update([["rare", "a", "b"]])
    assert "rare" in model


def test_every_file_the_package_ships_is_in_version_control():
    """A file the wheel ships (pyproject's package-data) that git ignores exists only on
    the machine that wrote it: a clean clone, CI and every wheel would go without it."""
    import shutil
    import subprocess

    import tomllib

    root = Path(__file__).resolve().parent.parent
    if shutil.which("git") is None or not (root / ".git").exists():
        pytest.skip("needs a git checkout")
    if PACKAGE.resolve() != (root / "src" / "item2vec").resolve():
        pytest.skip("the package imported is not this checkout's source")
    config = tomllib.loads((root / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["item2vec"]
    shipped = sorted({p for pattern in patterns for p in PACKAGE.glob(pattern) if p.is_file()})
    assert any(p.name == "index.html" for p in shipped)  # the explorer page is among them
    relative = [str(p.resolve().relative_to(root)) for p in shipped]
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", *relative],
        cwd=root, capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    assert ignored == []
