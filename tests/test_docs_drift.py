"""The README and the command line's help state what the code does: names and defaults.

The README's parameter table is generated from the one parameter table
(``src/item2vec/_params.py``); the CLI's options and defaults come from the same
rows and from the signatures of the functions the commands call. These tests read
the defaults from the signatures (``inspect``), not from the generated texts.
"""

import argparse
import inspect
import math
import re
import shlex
from pathlib import Path

import pytest

from item2vec import Item2Vec
from item2vec._param_docs import readme_section, readme_table
from item2vec._training import auto_epochs
from item2vec.cli import _build_parser
from item2vec.ingest import build_corpus
from item2vec.tuning import tune

README = Path(__file__).resolve().parent.parent / "README.md"
needs_readme = pytest.mark.skipif(not README.is_file(), reason="no README.md beside the tests")
REGENERATE = "run `python -m item2vec._param_docs README.md` and commit the result"
SIGNATURE = inspect.signature(Item2Vec).parameters


def _readme():
    return README.read_text(encoding="utf-8")


def _table_rows(text):
    """(name, default as written) of each row of the README's parameter table."""
    start, end = readme_section(text)
    return re.findall(r"^\| `(\w+)` \| ([^|]+) \|", text[start:end], flags=re.M)


def _spelled(value):
    """A default as the README's table writes it: strings quoted, the rest as Python."""
    return f'"{value}"' if isinstance(value, str) else repr(value)


@needs_readme
def test_the_readme_parameter_table_is_the_generated_one():
    start, end = readme_section(_readme())
    stale = f"README.md's parameter table is stale: {REGENERATE}"
    assert _readme()[start:end] == readme_table(), stale


@needs_readme
def test_the_readme_table_lists_every_parameter_with_its_default():
    rows = _table_rows(_readme())
    assert [name for name, _ in rows] != []
    assert sorted(name for name, _ in rows) == sorted(SIGNATURE), REGENERATE
    for name, default in rows:
        assert default.strip() == _spelled(SIGNATURE[name].default), (name, REGENERATE)


@needs_readme
def test_the_readme_states_the_query_defaults_the_code_uses():
    text = " ".join(_readme().split())  # one line: the prose wraps anywhere
    # "The defaults, `half_life=1` (...) and `popularity=0.2`, are measured in ..."
    stated = re.search(r"The defaults, `half_life=([\d.]+)` .*? and `popularity=([\d.]+)`", text)
    assert stated, "the README no longer states the query defaults where this test looks"
    assert float(stated[1]) == SIGNATURE["half_life"].default
    assert float(stated[2]) == SIGNATURE["popularity"].default
    # the results table's row for the defaults
    row = re.search(r"\*\*Item2Vec, the defaults\*\* \(`Item2Vec\(\)`: `sample=([\d.]+)`, [^;]*; "
                    r"query `half_life=([\d.]+), popularity=([\d.]+)`\)", text)  # fmt: skip
    assert row, "the README's results table no longer has the defaults' row"
    assert float(row[1]) == SIGNATURE["sample"].default
    assert float(row[2]) == SIGNATURE["half_life"].default
    assert float(row[3]) == SIGNATURE["popularity"].default


@needs_readme
def test_the_readme_states_the_word2vec_preset():
    text = " ".join(_readme().split())
    stated = re.search(
        r'`Item2Vec\.from_preset\("word2vec"\)` gives [^:]*: `sample=([\de.-]+)`, `epochs=(\d+)`, '
        r"no recency and no popularity prior",
        text,
    )
    assert stated
    preset = Item2Vec.from_preset("word2vec").get_params()
    assert preset["sample"] == float(stated[1]) and preset["epochs"] == int(stated[2])
    assert preset["half_life"] is None and preset["time_half_life"] is None
    assert preset["last_n"] is None and preset["popularity"] == 0.0


@pytest.mark.parametrize(
    ("tokens", "items"), [(10_000, 100), (40_000, 100), (10**6, 10), (50, 10), (900, 100)]
)
def test_auto_epochs_is_the_formula_the_readme_states(tokens, items):
    # "exactly 150 / sqrt(tokens per item), rounded and kept within 5..50"
    expected = min(50, max(5, round(150 / math.sqrt(tokens / items))))
    assert auto_epochs(tokens, items) == expected


# the command line


def _commands():
    top = _build_parser()
    (commands,) = [a for a in top._actions if isinstance(a, argparse._SubParsersAction)]
    return commands.choices


def _option(parser, flag):
    (action,) = [a for a in parser._actions if flag in a.option_strings]
    return action


@pytest.mark.parametrize("command", ["fit", "evaluate"])
def test_training_options_are_the_estimators_parameters_with_its_defaults(command):
    parser = _commands()[command]
    parsed = vars(parser.parse_args(["e.csv"] + (["-o", "m.npz"] if command == "fit" else [])))
    cli_only = {"callbacks", "recommend_scoring", "verbose"}  # not options of the command line
    for name, parameter in SIGNATURE.items():
        if name in cli_only:
            continue
        assert parsed[name] == parameter.default, name
        action = _option(parser, "--" + name.replace("_", "-"))
        assert action.help.endswith(f"(default: {parameter.default})"), (name, action.help)
    assert "verbose" in parsed and "callbacks" not in parsed


@pytest.mark.parametrize("name", ["last_n", "half_life", "time_half_life", "popularity"])
def test_recommend_offers_each_query_option_with_none(name):
    action = _option(_commands()["recommend"], "--" + name.replace("_", "-"))
    assert "'none': off" in action.help and "the model's setting" in action.help


def test_tune_and_corpus_defaults_are_their_functions_defaults():
    commands = _commands()
    tuned = vars(commands["tune"].parse_args(["e.csv", "-o", "m.npz"]))
    defaults = inspect.signature(tune).parameters
    for name in ("budget", "metric", "validation_users", "random_state"):
        assert tuned[name] == defaults[name].default, name
        help_text = _option(commands["tune"], "--" + name.replace("_", "-")).help
        default = defaults[name].default
        spelled = f"{default:g}" if isinstance(default, float) else str(default)
        assert help_text.endswith(f"default: {spelled})"), help_text
    built = vars(commands["corpus"].parse_args(["e.csv", "-o", "c"]))
    defaults = inspect.signature(build_corpus).parameters
    for name in ("min_count", "memory_limit", "min_length"):
        assert built[name] == defaults[name].default, name


def test_evaluate_tune_help_says_how_many_events_validate():
    events = inspect.signature(tune).parameters["validation_events"].default
    help_text = _option(_commands()["evaluate"], "--tune").help
    assert f"each user's last {events} training events" in help_text


@needs_readme
def test_every_command_line_of_the_readme_parses():
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", _readme(), flags=re.S):
        joined = re.sub(r"\\\n\s*", " ", block)  # continuation lines
        lines += [line for line in joined.splitlines() if line.startswith("item2vec ")]
    assert len(lines) >= 8
    commands = _commands()
    for line in lines:
        argv = shlex.split(line, comments=True)[1:]
        extras = commands[argv[0]].parse_known_args(argv[1:])[1]
        assert extras == [], line
