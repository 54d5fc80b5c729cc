"""Command line: ``item2vec fit | corpus | similar | recommend | evaluate | tune | ...``."""

from __future__ import annotations

import argparse
import difflib
import inspect
import json
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from item2vec._param_docs import cli_default
from item2vec._params import ITEM2VEC_PARAMS, Param
from item2vec._version import __version__
from item2vec.model import Item2Vec
from item2vec.neighbors import MODEL_SETTING

__all__ = ["main"]


def _window(text: str) -> int | str:
    if text == "session":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an int or 'session', got {text!r}") from None


# how the command line reads each kind of parameter of the table in item2vec._params
_PARSERS: dict[str, Any] = {
    "int": int, "real": float, "window": _window, "jobs": int, "seed": int, "choice": str,
}  # fmt: skip
# the parameters that are query options: a model remembers them for recommend
_QUERY_PARAMS = ("last_n", "half_life", "time_half_life", "popularity")
# item-to-item scores of `similar` and `export --format similar-*`
_SIMILARITY_OPTION: dict[str, Any] = dict(
    choices=["inout", "input"], default=MODEL_SETTING,
    help="inout: an item's input vector against the others' input + output vectors; "
    "input: the cosine of input vectors (word2vec's); default: the model's setting",
)  # fmt: skip


def _or_auto(parse: Any) -> Any:
    """``parse``, also accepting "auto" (a value chosen from the data)."""

    def parse_or_auto(text: str) -> Any:
        return "auto" if text.lower() == "auto" else parse(text)

    parse_or_auto.__name__ = getattr(parse, "__name__", "value")
    return parse_or_auto


def _or_none(parse: Any) -> Any:
    """``parse``, also accepting "none" (to turn an option off)."""

    def parse_or_none(text: str) -> Any:
        return None if text.lower() == "none" else parse(text)

    parse_or_none.__name__ = getattr(parse, "__name__", "value")
    return parse_or_none


def _or_off(param: Param) -> Any:
    """The parser of a query option: its kind, or "none" to switch it off.

    Off is None for the options that take None, and 0.0 for ``popularity``
    (no prior), which has no None.
    """
    parse = _PARSERS[param.kind]
    off = None if param.none else 0.0

    def parse_or_off(text: str) -> Any:
        return off if text.lower() == "none" else parse(text)

    parse_or_off.__name__ = getattr(parse, "__name__", "value")
    return parse_or_off


def _number_list(text: str) -> list[float]:
    """Comma-separated numbers (blanks around commas ignored)."""
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers, got {text!r}"
        ) from None


class CommandError(Exception):
    """A problem to report in one line, with exit status 2."""


def _close_match(word: str, candidates: Sequence[str]) -> str | None:
    matches = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return matches[0] if matches else None


class _Parser(argparse.ArgumentParser):
    """argparse with "did you mean ...?" for a mistyped option, command or choice.

    (Python 3.14's ``suggest_on_error`` does the same; the package supports 3.10.)
    """

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        try:
            super()._check_value(action, value)
        except argparse.ArgumentError as exc:
            match = _close_match(str(value), [str(c) for c in action.choices or ()])
            if match is None:
                raise
            raise argparse.ArgumentError(
                action, f"{exc.message}; did you mean {match!r}?"
            ) from None

    def parse_args(self, args: Any = None, namespace: Any = None) -> Any:
        namespace, extras = self.parse_known_args(args, namespace)
        if extras:
            # the command's own parser: its usage and its options, not the top level's
            parser = _COMMAND_PARSERS.get(str(getattr(namespace, "command", "")), self)
            options = [o for a in parser._actions for o in a.option_strings if o.startswith("--")]
            hints = []
            for extra in extras:
                if extra.startswith("-"):
                    match = _close_match(extra.split("=", 1)[0], options)
                    if match is not None:
                        hints.append(f"did you mean {match}?")
            hint = f" ({'; '.join(hints)})" if hints else ""
            parser.error(f"unrecognized arguments: {' '.join(extras)}{hint}")
        namespace.typed_options = self._typed_options(args)
        return namespace

    def _typed_options(self, args: Any) -> frozenset[str]:
        """The destinations of the options typed on the command line.

        A value equal to its default may still be typed on purpose (``evaluate
        --model m.npz --half-life 1`` overrides the model's remembered half-life),
        so the arguments are parsed again with no defaults: only typed options
        set their destination then.
        """
        actions = list(self._actions)
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                for parser in action.choices.values():
                    actions += parser._actions
        saved = [(action, action.default) for action in actions]
        try:
            for action, _ in saved:
                action.default = argparse.SUPPRESS
            typed, _ = self.parse_known_args(args)
        finally:
            for action, default in saved:
                action.default = default
        return frozenset(vars(typed))


# the parser of each command, for the usage of an error found after the command's own parse
_COMMAND_PARSERS: dict[str, argparse.ArgumentParser] = {}


def _add_event_options(parser: argparse.ArgumentParser, corpus: bool = True) -> None:
    if corpus:
        parser.add_argument(
            "events",
            help="CSV/TSV (.csv.gz too) or Parquet file of events, or a corpus directory "
            "written by 'item2vec corpus' (then the event options do not apply)",
        )
    parser.add_argument("--user", help="column of user ids (required with an event file)")
    parser.add_argument("--item", help="column of item ids (required with an event file)")
    parser.add_argument("--time", help="column of event times (orders each user's events)")
    parser.add_argument("--weight", help="column of event strengths (e.g. rating)")
    parser.add_argument("--min-weight", type=float, help="keep events with weight >= this")
    parser.add_argument("--session-gap", type=float, help="split sequences at larger time gaps")
    parser.add_argument("--min-length", type=int, default=1, help="drop shorter sequences")


def _add_train_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("training parameters (see Item2Vec)")
    queries = parser.add_argument_group(
        "query options (saved with the model; 'none' turns one off)"
    )
    for param in ITEM2VEC_PARAMS:
        if not param.cli:
            continue
        flag = f"--{param.name.replace('_', '-')}"
        help_text = f"{param.help} (default: {cli_default(param.default)})"
        if param.kind == "bool":
            group.add_argument(
                flag, action=argparse.BooleanOptionalAction, default=param.default, help=help_text
            )
        elif param.name in _QUERY_PARAMS:
            queries.add_argument(flag, type=_or_off(param), default=param.default, help=help_text)
        else:
            parse = _PARSERS[param.kind]
            parse = _or_auto(parse) if param.auto else parse
            group.add_argument(
                flag, type=_or_none(parse) if param.none else parse, default=param.default,
                choices=param.options or None, help=help_text,
            )  # fmt: skip
    group.add_argument(
        "--verbose", type=int, default=1,
        help="1 shows progress: a bar on a terminal, else one line per epoch",
    )  # fmt: skip


def _defaults(function: Callable[..., Any]) -> dict[str, Any]:
    """The keyword defaults of ``function``: the CLI's defaults are the API's.

    Read from the function's own default values, not ``inspect.signature``: the
    documentation build replaces documented functions' signatures with their source
    text (Sphinx's ``autodoc_preserve_defaults``), which is no number to format.
    """
    function = inspect.unwrap(function)  # a decorated function's own defaults
    code = function.__code__
    positional = code.co_varnames[: code.co_argcount]
    values = function.__defaults__ or ()
    defaults = dict(zip(positional[len(positional) - len(values) :], values, strict=True))
    defaults.update(function.__kwdefaults__ or {})
    return defaults


def _add_query_options(parser: argparse.ArgumentParser) -> None:
    """recommend's query options: each from the table, left out = the model's setting."""
    for param in ITEM2VEC_PARAMS:
        if param.name in _QUERY_PARAMS:
            parser.add_argument(
                f"--{param.name.replace('_', '-')}", type=_or_off(param), default=MODEL_SETTING,
                help=f"{param.help}; 'none': off (default: the model's setting)",
            )  # fmt: skip


def _build_parser() -> argparse.ArgumentParser:
    from item2vec.ingest import build_corpus
    from item2vec.tuning import tune as tune_function

    parser = _Parser(
        prog="item2vec", description="Item embeddings from user behaviour, and recommendations."
    )
    parser.add_argument(
        "--version", action="version", version=f"item2vec {__version__}",
        help="print the version and exit",
    )  # fmt: skip
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    fit = commands.add_parser("fit", help="train a model on an event log and save it")
    _add_event_options(fit)
    _add_train_options(fit)
    fit.add_argument("-o", "--output", required=True, help="model file to write (.npz)")

    corpus_defaults = _defaults(build_corpus)
    corpus = commands.add_parser(
        "corpus", help="turn event logs of any size into an on-disk corpus (DuckDB)"
    )
    corpus.add_argument(
        "events", nargs="+", help="Parquet or CSV/TSV files (.csv.gz too), or globs of them"
    )
    _add_event_options(corpus, corpus=False)
    corpus.add_argument("-o", "--output", required=True, help="corpus directory to write")
    corpus.add_argument(
        "--min-count", type=int, default=corpus_defaults["min_count"],
        help=f"drop rarer items (default: {corpus_defaults['min_count']})",
    )  # fmt: skip
    corpus.add_argument(
        "--memory-limit", default=corpus_defaults["memory_limit"],
        help=f"DuckDB's memory limit (default: {corpus_defaults['memory_limit']})",
    )  # fmt: skip
    corpus.add_argument("--threads", type=int, help="DuckDB's threads (default: all cores)")
    corpus.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=None,
        help="report progress on stderr (default: when it is a terminal)",
    )  # fmt: skip

    similar = commands.add_parser("similar", help="items most similar to an item")
    similar.add_argument("model", help="model file written by 'item2vec fit'")
    similar.add_argument("item", help="item id (read as an int when the model's ids are ints)")
    similar.add_argument(
        "-k", "--topn", type=int, default=10, help="how many items to print (default: 10)"
    )
    similar.add_argument("--similarity", **_SIMILARITY_OPTION)

    recommend = commands.add_parser(
        "recommend",
        help="recommendations after a history, or for every user of an event file (--events)",
    )
    recommend.add_argument("model", help="model file written by 'item2vec fit'")
    source = recommend.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--history",
        help="comma-separated item ids, oldest first (--history=-1,2 when the first starts "
        "with '-'); ids the model does not know are skipped and counted on stderr",
    )  # fmt: skip
    source.add_argument(
        "--events",
        help="instead of --history: a CSV/TSV/Parquet event file (or a corpus directory); "
        "writes every user's top-k table (user, rank, item, score) to --output",
    )  # fmt: skip
    recommend.add_argument("--user", help="with --events: column of user ids")
    recommend.add_argument("--item", help="with --events: column of item ids")
    recommend.add_argument("--time", help="with --events: column of event times (their order)")
    recommend.add_argument("-o", "--output", help="with --events: the CSV file to write")
    recommend.add_argument(
        "--fallback", choices=["popularity"],
        help="a history with no known item gets the most popular items (default: with "
        "--history an error, with --events no rows for that user)",
    )  # fmt: skip
    recommend.add_argument(
        "--times", type=_number_list,
        help="comma-separated times of the history's events, one per id (for --time-half-life)",
    )  # fmt: skip
    recommend.add_argument(
        "-k", "--topn", type=int, default=10, help="how many items to print (default: 10)"
    )
    _add_query_options(recommend)
    recommend.add_argument(
        "--keep-seen", action="store_true", help="allow items of the history in the answer"
    )

    tune_defaults = _defaults(tune_function)
    evaluate = commands.add_parser(
        "evaluate", help="leave-last-out HR/NDCG/MRR/coverage against Popularity and ItemKNN"
    )
    _add_event_options(evaluate)
    _add_train_options(evaluate)
    evaluate.add_argument("-k", type=int, default=10, help="cut-off of the metrics (default: 10)")
    evaluate.add_argument(
        "--tune", type=float, metavar="SECONDS",
        help="tune Item2Vec's settings for this long on the training events first (validated "
        f"on each user's last {tune_defaults['validation_events']} training events, never "
        "on the held-out one)",
    )  # fmt: skip
    evaluate.add_argument("--json", action="store_true", help="print JSON instead of a table")
    evaluate.add_argument(
        "--model", metavar="FILE",
        help="score this saved model (from 'item2vec fit', 'item2vec tune' or Item2Vec.save) "
        "instead of training one: no training option applies, its remembered query options "
        "do unless given here; the baselines are still fitted on the training part. A model "
        "trained on these same events has seen the held-out ones and scores too high: fit it "
        "on the file --write-train writes",
    )  # fmt: skip
    evaluate.add_argument(
        "--write-train", metavar="FILE",
        help="write the split's training events to this CSV (columns sequence,item and time, "
        "weight when the events have them; the held-out events left out), to fit on exactly "
        "them: item2vec fit FILE --user sequence --item item [--time time] [--weight weight]",
    )  # fmt: skip

    tune = commands.add_parser(
        "tune", help="search the settings that recommend best within a time budget, save the model"
    )
    _add_event_options(tune)
    tune.add_argument(
        "--budget", type=float, default=tune_defaults["budget"],
        help=f"seconds of search (default: {tune_defaults['budget']:g})",
    )  # fmt: skip
    tune.add_argument("--max-trials", type=int, help="stop after this many settings")
    tune.add_argument(
        "--metric", default=tune_defaults["metric"],
        help=f"validation metric: hr@K, ndcg@K or mrr@K (default: {tune_defaults['metric']})",
    )  # fmt: skip
    tune.add_argument(
        "--validation-users", type=_or_none(int), default=tune_defaults["validation_users"],
        help="validate on at most this many users ('none': all; default: "
        f"{tune_defaults['validation_users']})",
    )  # fmt: skip
    tune.add_argument(
        "--search-query", action="store_true",
        help="also choose the query options (half life, popularity, time half life) on the "
        "validation events; off by default, as they favour longer half lives than the next "
        "event does",
    )  # fmt: skip
    tune.add_argument("--n-jobs", type=int, help="training threads (default: all cores)")
    tune.add_argument(
        "--random-state", type=int, default=tune_defaults["random_state"],
        help=f"seed of the search and of training (default: {tune_defaults['random_state']})",
    )  # fmt: skip
    tune.add_argument("-o", "--output", required=True, help="model file to write (.npz)")

    export = commands.add_parser("export", help="write vectors or the item-similarity table")
    export.add_argument("model", help="model file written by 'item2vec fit'")
    export.add_argument(
        "--format", required=True,
        choices=["word2vec-text", "word2vec-binary", "similar-csv", "similar-parquet"],
        help="word2vec's text or binary vectors (gensim reads both), or each item's "
        "neighbours as a CSV or Parquet table (item,rank,neighbor,score)",
    )  # fmt: skip
    export.add_argument("-o", "--output", required=True, help="file to write")
    export.add_argument(
        "-k", "--topn", type=int, default=10,
        help="neighbours per item, for similar-csv and similar-parquet (default: 10)",
    )  # fmt: skip
    export.add_argument("--similarity", **_SIMILARITY_OPTION)

    plot = commands.add_parser("plot", help="draw a 2-D map of the item vectors (matplotlib)")
    plot.add_argument("model", help="model file written by 'item2vec fit'")
    plot.add_argument("-o", "--output", required=True, help="image file, e.g. map.png")
    plot.add_argument("--labels", help="CSV/TSV with columns item,label to colour the points")
    plot.add_argument(
        "--annotate", type=int, default=15, help="name the N most frequent items (default: 15)"
    )
    from item2vec.serve import add_serve_arguments

    serve = commands.add_parser(
        "serve", help="serve a model's queries over HTTP, with an explorer page (serve extra)"
    )
    add_serve_arguments(serve)
    _COMMAND_PARSERS.update(commands.choices)
    return parser


_EVENT_OPTIONS = ("user", "item", "time", "weight", "min_weight", "session_gap")


def _event_options(args: argparse.Namespace) -> dict[str, Any]:
    if args.user is None or args.item is None:
        raise CommandError("--user and --item are required with an event file")
    options = {name: getattr(args, name) for name in _EVENT_OPTIONS}
    return {**options, "min_length": args.min_length}


def _read_corpus(args: argparse.Namespace) -> Any:
    from item2vec.corpus import Sequences
    from item2vec.ingest import read_events

    if os.path.isdir(args.events):
        given = [f"--{n.replace('_', '-')}" for n in _EVENT_OPTIONS if getattr(args, n) is not None]
        if given or args.min_length != 1:
            raise CommandError(
                f"{args.events} is a corpus directory: its events were chosen when it was "
                f"built, so {', '.join(given) or '--min-length'} cannot apply"
            )
        return Sequences.open(args.events)
    _refuse_model_file(args.events, args.command)
    return read_events(args.events, **_event_options(args))


def _build_corpus(args: argparse.Namespace) -> None:
    from item2vec.ingest import build_corpus

    for path in args.events:
        _refuse_model_file(path, "corpus")
    events = args.events[0] if len(args.events) == 1 else args.events
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    corpus = build_corpus(
        events, args.output, **_event_options(args), min_count=args.min_count,
        memory_limit=args.memory_limit, threads=args.threads, verbose=progress,
    )  # fmt: skip
    print(
        f"wrote {args.output}: {corpus.n_tokens:,} events in {len(corpus):,} sequences, "
        f"{len(corpus.vocabulary):,} items"
    )


def _make_model(args: argparse.Namespace) -> Item2Vec:
    params = {param.name: getattr(args, param.name) for param in ITEM2VEC_PARAMS if param.cli}
    return Item2Vec(**params, verbose=args.verbose)


# the canonical decimal spelling of an integer, as the event readers read int ids
_INT_SPELLING = re.compile(r"-?(0|[1-9][0-9]*)")


def _model_id(model: Item2Vec, text: str) -> Any:
    """A command-line id in the model's id type.

    A model with int ids (read from a CSV column of canonical integers, or
    given as ints) takes a text that spells one of its ids; a model with text
    ids keeps the text; a model with mixed ids (Python objects) finds the text
    first, then the int it spells.
    """
    kind = model.items_.dtype.kind
    # (an int outside the model's int64 / uint64 range is simply not one of its ids)
    spelled = int(text) if _INT_SPELLING.fullmatch(text) else None
    if kind in "iu":
        return text if spelled is None else spelled
    if kind == "O" and text not in model.vocabulary_ and spelled is not None:
        return spelled
    return text


def _item(model: Item2Vec, text: str) -> Any:
    """The model's item for a command-line query id: an unknown one is an error naming it."""
    item = _model_id(model, text)
    if item not in model.vocabulary_:
        raise CommandError(f"item {text!r} is not in the model")
    return item


def _history(
    model: Item2Vec, text: str, times: list[float] | None
) -> tuple[list[Any], list[float] | None, list[str]]:
    """A --history's known items (oldest first), their --times, and the unknown ids skipped."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise CommandError("--history needs at least one item id")
    if times is not None and len(times) != len(parts):
        raise CommandError(
            f"--times needs one time per --history id: got {len(times)} times for {len(parts)} ids"
        )
    known, kept_times, unknown = [], [], []
    for i, part in enumerate(parts):
        item = _model_id(model, part)
        if item in model.vocabulary_:
            known.append(item)
            if times is not None:
                kept_times.append(times[i])
        else:
            unknown.append(part)
    if not known:
        named = ", ".join(repr(part) for part in unknown)
        raise CommandError(f"no item of --history is in the model: {named}")
    return known, None if times is None else kept_times, unknown


# zip archives (an .npz model is one) start with a local file header
_ZIP_MAGIC = b"PK\x03\x04"


def _refuse_model_file(path: str, command: str) -> None:
    """A model file where events are expected is named as such, not as text in a bad encoding."""
    try:
        with open(path, "rb") as file:
            head = file.read(len(_ZIP_MAGIC))
    except OSError:
        return  # not a readable file (a directory, a glob, missing): the reader says which
    if head == _ZIP_MAGIC:
        raise CommandError(
            f"{path} is a model file (.npz), not events: '{command}' expects a CSV/TSV "
            "(.csv.gz too) or Parquet file of events (or a corpus directory from 'item2vec corpus')"
        )


def _check_output(path: str, option: str = "--output") -> None:
    """Fail before any work when an output cannot be written: its folder is missing or read-only."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CommandError(f"cannot write {option} {path}: no such folder {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CommandError(f"cannot write {option} {path}: folder {folder} is not writable")


def _run(args: argparse.Namespace) -> None:
    if getattr(args, "output", None) is not None:
        _check_output(args.output)
    if args.command == "fit":
        corpus = _read_corpus(args)
        model = _make_model(args).fit(corpus)
        model.save(args.output)
        print(
            f"trained on {corpus.n_tokens:,} events in {len(corpus):,} sequences: "
            f"{len(model.items_):,} items; saved {args.output}"
        )
    elif args.command == "corpus":
        _build_corpus(args)
    elif args.command == "similar":
        model = Item2Vec.load(args.model)
        query = _item(model, args.item)
        for item, score in model.most_similar(query, topn=args.topn, similarity=args.similarity):
            print(f"{item}\t{score:.4f}")
    elif args.command == "recommend" and args.events is not None:
        _recommend_table(args)
    elif args.command == "recommend":
        for name in ("user", "item", "time", "output"):
            if getattr(args, name) is not None:
                raise CommandError(f"--{name} goes with --events, not --history")
        model = Item2Vec.load(args.model)
        history, times, unknown = _history(model, args.history, args.times)
        if unknown:
            named = ", ".join(map(repr, unknown[:5])) + (", ..." if len(unknown) > 5 else "")
            print(
                f"item2vec recommend: skipped {len(unknown)} --history "
                f"id{'s' if len(unknown) > 1 else ''} not in the model: {named}",
                file=sys.stderr,
            )
        time_half_life = _time_half_life(
            "recommend", model.query_options["time_half_life"], args.time_half_life,
            times is not None, "--times", "--times (the time of each history event)",
        )  # fmt: skip
        ids, scores = model.recommend(
            history, topn=args.topn, exclude_seen=not args.keep_seen, last_n=args.last_n,
            half_life=args.half_life, time_half_life=time_half_life,
            popularity=args.popularity, times=times, fallback=args.fallback,
        )  # fmt: skip
        for item, score in zip(ids.tolist(), scores.tolist(), strict=True):
            print(f"{item}\t{score:.4f}")
    elif args.command == "evaluate":
        _evaluate(args)
    elif args.command == "tune":
        from item2vec.tuning import tune

        corpus = _read_corpus(args)
        result = tune(
            corpus, budget=args.budget, max_trials=args.max_trials, metric=args.metric,
            validation_users=args.validation_users, search_query=args.search_query,
            n_jobs=args.n_jobs, random_state=args.random_state, verbose=True,
        )  # fmt: skip
        print(result.table())
        result.model.save(args.output)
        print(
            f"chosen {result.metric} {result.best_score:.4f} ± {result.best_std_error:.4f} on "
            f"the validation events of {result.n_validation_users:,} users (defaults "
            f"{result.default_score:.4f}); settings: {_settings(result.model)}; "
            f"saved {args.output}"
        )
    elif args.command == "plot":
        from item2vec.ingest import read_table
        from item2vec.plotting import embedding_map

        model = Item2Vec.load(args.model)
        labels = None
        if args.labels:
            # the id column by the text id rule ("007" stays "007"), labels as text
            table = read_table(args.labels, text_columns=("item", "label"))
            if "item" not in table or "label" not in table:
                raise CommandError(f"{args.labels} needs columns 'item' and 'label'")
            # ids in the model's type, row by row (a CSV column of digits reads as ints)
            labels, skipped = {}, 0
            for item, label in zip(table["item"].tolist(), table["label"].tolist(), strict=True):
                key = _model_id(model, str(item))
                if key in model.vocabulary_:
                    labels[key] = label
                else:
                    skipped += 1
            if skipped:
                print(
                    f"item2vec plot: skipped {skipped} --labels row{'s' if skipped > 1 else ''} "
                    "whose item is not in the model",
                    file=sys.stderr,
                )
        embedding_map(model, labels=labels, path=args.output, annotate=args.annotate)
        print(f"wrote {args.output}")
    elif args.command == "export":
        model = Item2Vec.load(args.model)
        if args.format.startswith("word2vec"):
            model.save_word2vec_format(args.output, binary=args.format == "word2vec-binary")
        else:
            model.export_similar_items(args.output, topn=args.topn, similarity=args.similarity)
        print(f"wrote {args.output}")
    elif args.command == "serve":
        from item2vec.serve import run_serve

        run_serve(args)


def _time_half_life(
    command: str, remembered: float | None, given: Any, has_times: bool, needs: str,
    refusal: str,
) -> Any:  # fmt: skip
    """The time_half_life to rank with (``given``: typed, or MODEL_SETTING). Without event
    times, a typed one is refused (naming ``refusal``), and a remembered one is dropped and
    said once in the command's terms (not as a Python warning advising recommend(times=))."""
    if has_times:
        return given
    if given not in (MODEL_SETTING, None):
        raise CommandError(f"--time-half-life needs {refusal}")
    if given is MODEL_SETTING and remembered is not None:
        print(
            f"item2vec {command}: the model's time_half_life={remembered:g} applies only "
            f"with {needs}; ranking without it",
            file=sys.stderr,
        )
    return None


def _recommend_table(args: argparse.Namespace) -> None:
    """``item2vec recommend --events``: every user's top-k, as ``spark.recommend`` gives it."""
    import csv
    import warnings

    import numpy as np

    from item2vec._files import atomic_write
    from item2vec.corpus import Sequences
    from item2vec.ingest import read_events
    from item2vec.neighbors import UnknownItemsWarning

    if args.times is not None:
        raise CommandError("--events ranks every user of the file: leave out --times")
    if args.output is None:
        raise CommandError("--events needs --output (the CSV file to write)")
    _check_output(args.output)
    model = Item2Vec.load(args.model)
    if os.path.isdir(args.events):
        histories = Sequences.open(args.events)
    else:
        if args.user is None or args.item is None:
            raise CommandError("--events needs --user and --item (the id columns)")
        histories = read_events(args.events, user=args.user, item=args.item, time=args.time)
    time_half_life = _time_half_life(
        "recommend", model.query_options["time_half_life"], args.time_half_life,
        histories.times is not None, "event times (--time)",
        "event times: give --time (the time column), or a corpus built with times",
    )  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnknownItemsWarning)
        ids, scores = model.recommend_batch(
            histories, topn=args.topn, exclude_seen=not args.keep_seen, last_n=args.last_n,
            half_life=args.half_life, time_half_life=time_half_life,
            popularity=args.popularity, fallback=args.fallback,
        )  # fmt: skip
    for warning in caught:
        if isinstance(warning.message, UnknownItemsWarning):
            report = warning.message
            print(
                f"item2vec recommend: skipped {report.n_skipped:,} events of items not in the "
                f"model; {len(report.empty_rows):,} users had no known item"
                + ("" if args.fallback else " and get no rows"),
                file=sys.stderr,
            )
        else:  # any other warning is shown as it would have been
            warnings.showwarning(warning.message, warning.category, warning.filename,
                                 warning.lineno)  # fmt: skip
    users = histories.users if histories.users is not None else np.arange(len(histories))
    rows = 0
    with atomic_write(args.output, "w") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["user", "rank", "item", "score"])
        for user, row_ids, row_scores in zip(users.tolist(), ids.tolist(), scores, strict=True):
            for rank, (item, score) in enumerate(zip(row_ids, row_scores.tolist(), strict=True)):
                if np.isfinite(score):  # a padded entry: fewer candidates than -k
                    writer.writerow([user, rank + 1, item, f"{score:.6g}"])
                    rows += 1
    print(f"wrote {rows:,} rows for {len(histories):,} users to {args.output}")


def _settings(model: Item2Vec) -> str:
    """The model's parameters that differ from the estimator's defaults, and its query options."""
    defaults = Item2Vec().get_params()
    skip = {"callbacks", "verbose", "n_jobs", "random_state", *_QUERY_PARAMS}
    params = model.get_params()
    changed = [
        f"{n}={params[n]!r}" for n in sorted(params) if n not in skip and params[n] != defaults[n]
    ]
    if params["epochs"] == "auto":
        changed.append(f"epochs='auto' ({len(model.loss_history_)} here)")
    query = [f"{n}={params[n]!r}" for n in _QUERY_PARAMS]
    return f"{', '.join(changed)}; queries {', '.join(query)}"


def _evaluate(args: argparse.Namespace) -> None:
    from item2vec.baselines import ItemKNN, Popularity
    from item2vec.evaluation import evaluate, leave_last_out

    saved = None
    if args.model is not None:
        _refuse_training_options(args)
        saved = Item2Vec.load(args.model)  # before the events: a bad model file fails fast
    if args.write_train is not None:
        _check_write_train(args)
    split = leave_last_out(_read_corpus(args))
    if split.targets.shape[0] == 0:
        raise CommandError("no sequence has two or more events to hold one out")
    if args.write_train is not None:
        _write_train(split.train, args.write_train)
    name = "Item2Vec"
    if saved is not None:
        _check_id_types(saved, split.train.vocabulary.items, args)
        _override_query_options(saved, args, timed=split.histories.times is not None)
        model = saved
        name = os.path.basename(args.model) or "Item2Vec (saved)"
        if name in ("Popularity", "ItemKNN"):
            name = "Item2Vec (saved)"
    elif args.tune is not None:
        from item2vec.tuning import tune

        # the held-out events stay out: tune validates on the training part's last events
        result = tune(split.train, budget=args.tune, n_jobs=_make_model(args).n_jobs, verbose=True)
        print(result.table(limit=10), file=sys.stderr)  # stdout keeps the metrics (or JSON)
        model = result.model
    else:
        model = _make_model(args).fit(split.train)
    # the baselines rank with the same history weighting as Item2Vec
    query = {n: value for n, value in model.query_options.items() if n != "popularity"}
    rows = {}
    for baseline_name, baseline in (("Popularity", Popularity()), ("ItemKNN", ItemKNN())):
        baseline.fit(split.train)
        weighting = query if baseline_name == "ItemKNN" else {}
        rows[baseline_name] = evaluate(baseline, split, k=args.k, **weighting)
    counting = _CountingUnknown(model)
    rows[name] = evaluate(counting, split, k=args.k)
    if args.json:
        params = model.get_params()
        settings = {n: params[n] for n in sorted(params) if n not in ("callbacks", "verbose")}
        settings["epochs_trained"] = len(model.loss_history_)
        row: dict[str, Any] = dict(rows[name])
        if saved is not None:
            row["n_users_without_known_item"] = counting.n_empty
            row["file"] = args.model
        print(json.dumps({**rows, name: {**row, "settings": settings}}, indent=2))
        return
    width = max(12, *map(len, rows))
    print(f"{'model':{width}s} {'HR':>8s} {'NDCG':>8s} {'MRR':>8s} {'coverage':>9s}  (k={args.k})")
    for row_name, m in rows.items():
        print(
            f"{row_name:{width}s} {m['hr']:8.4f} {m['ndcg']:8.4f} {m['mrr']:8.4f} "
            f"{m['coverage']:9.3f}"
        )
    n_users = int(rows[name]["n_users"])
    print(f"{n_users:,} held-out events")
    if saved is not None:
        print(
            f"{counting.n_empty:,} of {n_users:,} test users had no history item known to "
            f"{name} (counted as misses)"
        )
    print(f"{name} settings: {_settings(model)}")


class _CountingUnknown:
    """A recommender's ``recommend_batch`` that counts the histories with no known item.

    :func:`item2vec.evaluation.evaluate` counts such a history as a miss and
    silences the :class:`UnknownItemsWarning` that says how many there were;
    the warning is read here, where the model issues it, before that filter.
    """

    def __init__(self, model: Item2Vec) -> None:
        self.model = model
        self.n_empty = 0

    def recommend_batch(
        self, histories: Any, topn: int = 10, exclude_seen: bool = True, **options: Any
    ) -> Any:
        import warnings

        from item2vec.neighbors import UnknownItemsWarning

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UnknownItemsWarning)
            result = self.model.recommend_batch(
                histories, topn=topn, exclude_seen=exclude_seen, **options
            )
        for warning in caught:
            if isinstance(warning.message, UnknownItemsWarning):
                self.n_empty += int(warning.message.empty_rows.size)
            else:  # any other warning goes on as it would have
                warnings.warn_explicit(
                    warning.message, warning.category, warning.filename, warning.lineno
                )
        return result


def _refuse_training_options(args: argparse.Namespace) -> None:
    """--model scores a saved model: an option that trains one is a mistake, named."""
    training = [param.name for param in ITEM2VEC_PARAMS if param.cli]
    training = [n for n in training if n not in _QUERY_PARAMS] + ["verbose", "tune"]
    parser = _COMMAND_PARSERS["evaluate"]
    spelled = {a.dest: "/".join(a.option_strings) for a in parser._actions if a.option_strings}
    typed = [spelled[n] for n in training if n in args.typed_options]
    if typed:
        one = len(typed) == 1
        raise CommandError(
            f"{', '.join(typed)} {'is a training option' if one else 'are training options'}: "
            f"--model scores the saved model as it is, without training; leave "
            f"{'it' if one else 'them'} out"
        )


def _override_query_options(model: Item2Vec, args: argparse.Namespace, timed: bool) -> None:
    """The query options typed on the command line replace the saved model's own."""
    given = {n: getattr(args, n) for n in _QUERY_PARAMS if n in args.typed_options}
    time_half_life = _time_half_life(
        "evaluate", model.time_half_life, given.get("time_half_life", MODEL_SETTING), timed,
        "event times (--time)", "event times: give --time (the time column)",
    )  # fmt: skip
    if time_half_life is not MODEL_SETTING:
        given["time_half_life"] = time_half_life
    model.set_params(**given)


def _id_kind(items: Any) -> str | None:
    """The kind of ids a lookup can match: "numbers" or "text"; None for mixed ids."""
    if items.dtype.kind in "iuf":
        return "numbers"
    if items.dtype.kind in "US":
        return "text"
    types = {type(item) for item in items.tolist()}
    if types and types <= {str}:
        return "text"
    if types and all(issubclass(t, int | float) and t is not bool for t in types):
        return "numbers"
    return None


def _check_id_types(model: Item2Vec, items: Any, args: argparse.Namespace) -> None:
    """A model whose ids are of another kind than the events' would score a table of zeros."""
    model_kind, events_kind = _id_kind(model.items_), _id_kind(items)
    if None in (model_kind, events_kind) or model_kind == events_kind:
        return
    # (Python values: a NumPy scalar's repr names its type)
    model_example, events_example = model.items_[:1].tolist()[0], items[:1].tolist()[0]
    raise CommandError(
        f"{args.model} has item ids that are {model_kind} (e.g. {model_example!r}) but the "
        f"events' item ids are {events_kind} (e.g. {events_example!r}), so none could match; an id "
        "column read from a CSV holds integers only when every id spells one: fit the model "
        "on events read the same way"
    )


def _check_write_train(args: argparse.Namespace) -> None:
    """--write-train must not replace the events or the model, nor be a Parquet name."""
    path = args.write_train
    _check_output(path, "--write-train")
    if path.lower().endswith((".parquet", ".pq")):
        raise CommandError(f"--write-train writes CSV: name it .csv, not {path}")
    for option, other in (("events", args.events), ("--model", args.model)):
        if other is not None and os.path.exists(path) and os.path.exists(other):
            if os.path.samefile(path, other):
                raise CommandError(f"--write-train {path} is the {option} file: name another")


def _write_train(train: Any, path: str) -> None:
    """The training part as CSV rows (sequence, item[, time][, weight]), in corpus order.

    Each sequence becomes one "user" numbered in corpus order, so reading the file
    with ``--user sequence`` gives back these sequences, in this order, with these
    events (times and weights exact: a float's shortest repr reads back as itself).
    """
    import csv

    import numpy as np

    from item2vec._columns import typed_distinct_ids
    from item2vec._files import atomic_write

    present = np.flatnonzero(train.vocabulary.counts > 0)
    spelled = np.asarray([str(item) for item in train.vocabulary.items[present].tolist()], object)
    retyped = typed_distinct_ids(spelled)
    reread = "text" if retyped is None else _id_kind(retyped)
    kind = _id_kind(train.vocabulary.items)
    if kind is not None and reread != kind:
        print(
            f"item2vec evaluate: the item ids of {path} read back as {reread}, while these "
            f"events' ids are {kind}: a model fitted on it will not match these events",
            file=sys.stderr,
        )
    header = ["sequence", "item"]
    columns = [
        np.repeat(np.arange(len(train)), train.lengths).tolist(),
        [str(item) for item in train.vocabulary.items[train.codes].tolist()],
    ]
    for column, values in (("time", train.times), ("weight", train.weights)):
        if values is not None:
            header.append(column)
            columns.append(np.asarray(values, dtype=np.float64).tolist())
    with atomic_write(path, "w") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(zip(*columns, strict=True))
    print(
        f"item2vec evaluate: wrote {train.n_tokens:,} training events in {len(train):,} "
        f"sequences to {path}",
        file=sys.stderr,
    )


_REPORTED = (CommandError, ValueError, TypeError, KeyError, OSError, ImportError, ArithmeticError)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    # Ctrl-C may reach a library that turns it into its own error (DuckDB raises
    # "Query interrupted"): noting the signal lets any such error count as the interrupt
    signals: list[int] = []

    def on_interrupt(signum: int, frame: Any) -> NoReturn:
        signals.append(signum)
        raise KeyboardInterrupt

    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, on_interrupt) if in_main_thread else None
    try:
        _run(args)
    except KeyboardInterrupt:
        return _interrupted(args)
    except MemoryError as exc:
        # NumPy's message says how much was asked for ("Unable to allocate 3.7 TiB ...")
        detail = f": {exc}" if str(exc) else ""
        print(f"item2vec {args.command}: error: out of memory{detail}", file=sys.stderr)
        return 2
    except Exception as exc:
        if signals:
            return _interrupted(args)
        if not isinstance(exc, _REPORTED):
            raise
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"item2vec {args.command}: error: {message}", file=sys.stderr)
        return 2
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    return 0


def _interrupted(args: argparse.Namespace) -> int:
    print(f"item2vec {args.command}: interrupted", file=sys.stderr)
    return 130


if __name__ == "__main__":
    sys.exit(main())
