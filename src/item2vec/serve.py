"""``item2vec serve``: one saved model's queries over HTTP, and a page to explore it.

An ASGI application (FastAPI, served by uvicorn: the ``serve`` extra,
``pip install 'item2vec[serve]'``) over one model file. It documents itself
(OpenAPI at ``/docs`` and ``/openapi.json``):

``GET /health``
    ``{"status": "ok", "items": N, ...}`` with the model's settings, its
    remembered query options, the limits below and when it was loaded.
``GET /similar?item=ID&k=10[&exact=true]``
    ``{"item": ID, "neighbors": [{"item": ..., "score": ...}, ...]}``, equal
    to ``model.most_similar(ID, topn=k, exact=exact)``.
``POST /recommend``
    A JSON body ``{"history": [ids...], "k": 10, ...}`` with every query
    option of :meth:`Item2Vec.recommend` (``times``, ``exclude_seen``,
    ``filter_items``, ``last_n``, ``half_life``, ``time_half_life``,
    ``popularity``, ``exact``, ``fallback``) ->
    ``{"items": [...], "scores": [...], "skipped": n, "fallback": ...}``,
    equal to ``model.recommend(history, topn=k, ...)``. A remembered option
    (``last_n``, ``half_life``, ``time_half_life``, ``popularity``) left out
    takes the model's value; given as ``null`` it is switched off.
``POST /recommend_batch``
    ``{"histories": [[ids...], ...], "times": [[...], ...], ...}`` ->
    ``{"items": [[...], ...], "scores": [[...], ...], ...}``, equal to
    ``model.recommend_batch`` (padding dropped from each row).
``POST /reload``
    Loads the model file again (SIGHUP does the same). The new model takes
    over in one step once it is fully loaded: requests in flight finish on
    the model they started with. A missing or corrupt file is refused (422,
    naming the reason) and the old model keeps serving.
``GET /items?q=TEXT&limit=20``
    Completion over item ids and labels, most frequent items first.
``GET /map?max_points=5000&method=pca``, ``POST /map/locate``
    A 2-D map of the catalogue for the page: PCA of the unit vectors by
    default (NumPy's SVD), t-SNE of a sample when scikit-learn is installed
    and ``method=tsne`` is asked for.
``GET /``
    The explorer page (its script and styles ship in the package; nothing is
    fetched from elsewhere).

Ids in JSON are the model's ids: integers for a model with integer ids,
strings for one with string ids; a string that spells an integer id of an
integer model is accepted (query strings are always text, read the same way).
An integer sent to a model with string ids is refused (400).

Unknown ids: an unknown query item of ``/similar`` is a 404 naming it. Unknown
items of a history are skipped and counted (``"skipped"``). A history with no
known item gets the model's fallback, the most popular items (``"fallback":
"popularity"`` in the answer), never an empty 200; a request may ask for
``"fallback": null``, and then such a history is a 404 naming its items.

Limits (each can be changed on the command line), checked before any work:

- request body: at most 1 MiB (``--max-body``), else 413;
- history length (and ``filter_items``): at most 10,000 events (``--max-history``), else 413;
- histories per ``/recommend_batch``: at most 1,000 (``--max-batch``), else 413;
- ``k``: from 1 to 1,000 (``--max-k``), else 400;
- map points: at most 20,000 per ``/map`` (``--max-map-points``), else 400.

Malformed JSON, a value of the wrong type, an unknown key or an option out of
range get a 400 whose JSON body (``{"error": "..."}``) names the field, the
value received and what is accepted; the server keeps serving.

The server binds 127.0.0.1 unless ``--host`` says otherwise, and says where it
listens when it starts.
"""

import argparse
import csv
import datetime
import json
import os
import re
import signal
import sys
import threading
import warnings
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from item2vec.model import Item2Vec
from item2vec.neighbors import MODEL_SETTING, UnknownItemsWarning

__all__ = ["Limits", "add_serve_arguments", "create_app", "main", "run_serve"]

STATIC = Path(__file__).resolve().parent / "_static"
# the canonical decimal spelling of an integer, as the event readers read int ids
_INT_SPELLING = re.compile(r"-?(0|[1-9][0-9]*)")
_REMEMBERED = ("last_n", "half_life", "time_half_life", "popularity")
_MAP_METHODS = ("pca", "tsne")
# t-SNE runs on at most this many items (it is quadratic in memory and slow beyond)
_TSNE_POINTS = 5000
_BINS = 96


@dataclass(frozen=True)
class Limits:
    """The sizes a request may have; larger requests are refused before any work.

    Parameters
    ----------
    max_body : int, default=1 MiB
        Bytes of a request body (413 above).
    max_history : int, default=10,000
        Events of one history, and ids of ``filter_items`` (413 above).
    max_batch : int, default=1,000
        Histories of one ``/recommend_batch`` request (413 above).
    max_k : int, default=1,000
        Largest ``k`` (400 above).
    max_map_points : int, default=20,000
        Largest ``max_points`` of ``/map`` (400 above).
    """

    max_body: int = 1 << 20
    max_history: int = 10_000
    max_batch: int = 1_000
    max_k: int = 1_000
    max_map_points: int = 20_000

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


class ApiError(Exception):
    """A request the server refuses: an HTTP status and a message naming the problem."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ReloadError(Exception):
    """A model file that could not replace the one being served."""


# --- the served model ---------------------------------------------------------------


def _id_kind(items: np.ndarray) -> str:
    """ "int", "str" or "mixed": what the model's ids are (an object array is looked into)."""
    if items.dtype.kind in "iu":
        return "int"
    if items.dtype.kind == "U":
        return "str"
    values = items.tolist()
    if all(isinstance(v, str) for v in values):
        return "str"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "int"
    return "mixed"


def read_labels(path: str | os.PathLike[str], model: Item2Vec) -> tuple[dict[Any, str], int]:
    """Labels of the model's items from a CSV of ``id,label`` rows.

    Ids are read as the command line reads them (an int model takes text that
    spells an int). Rows of ids the model does not know (a header row among
    them) are left out and counted.

    Returns
    -------
    labels : dict
        Model id to label.
    n_unknown : int
        Rows whose id is not in the model.
    """
    labels: dict[Any, str] = {}
    n_unknown = 0
    kind = _id_kind(model.items_)
    vocabulary = model.vocabulary_
    with open(path, newline="", encoding="utf-8-sig") as file:
        for line, row in enumerate(csv.reader(file), start=1):
            if not row or not any(field.strip() for field in row):
                continue
            if len(row) < 2:
                raise ValueError(
                    f"--labels {path}: line {line} has {len(row)} field; expected id,label"
                )
            item = _id_from_text(kind, vocabulary, row[0].strip())
            if item in vocabulary:
                labels[item] = row[1].strip()
            else:
                n_unknown += 1
    return labels, n_unknown


def _id_from_text(kind: str, vocabulary: Any, text: str) -> Any:
    """Text (a query string, a CSV field) as one of the model's ids."""
    spelled = int(text) if _INT_SPELLING.fullmatch(text) else None
    if kind == "int":
        return text if spelled is None else spelled
    if kind == "mixed" and text not in vocabulary and spelled is not None:
        return spelled
    return text


class Served:
    """One loaded model with what the endpoints derive from it (built once per load).

    Requests take the holder's current ``Served`` once, at their start, and use
    it to the end: a reload never changes a model a request is reading.
    """

    def __init__(
        self, path: str, labels_path: str | None, map_method: str, map_seed: int = 0
    ) -> None:
        self.path = path
        self.model = Item2Vec.load(path)
        self.kind = _id_kind(self.model.items_)
        self.vocabulary = self.model.vocabulary_
        self.labels: dict[Any, str] = {}
        self.n_unknown_labels = 0
        if labels_path is not None:
            self.labels, self.n_unknown_labels = read_labels(labels_path, self.model)
        self.loaded_at = datetime.datetime.now(datetime.timezone.utc)
        self.map_method = map_method
        self.map_seed = map_seed
        self._lock = threading.Lock()
        self._search: tuple[list[Any], list[str], list[str]] | None = None
        self._maps: dict[tuple[str, int], dict[str, Any]] = {}
        self._pca: np.ndarray | None = None

    # ids ------------------------------------------------------------------------
    def item_from_json(self, value: Any, where: str) -> Any:
        """A JSON id as the model's id; a wrong type is a 400 naming ``where``."""
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ApiError(
                400, f"{where} must be an item id (an integer or a string), got {value!r}"
            )
        if self.kind == "str" and isinstance(value, int):
            raise ApiError(
                400,
                f"{where} is the number {value}, but this model's item ids are strings: "
                f'send "{value}"',
            )
        if isinstance(value, str):
            return _id_from_text(self.kind, self.vocabulary, value)
        return value

    def label(self, item: Any) -> str | None:
        return self.labels.get(item)

    # completion -----------------------------------------------------------------
    def complete(self, query: str, limit: int) -> list[dict[str, Any]]:
        """Items whose id or label contains ``query`` (case-insensitive): those that
        start with it first, each group most frequent first."""
        ids, keys, shown = self._search_table()
        needle = query.strip().lower()
        first: list[int] = []
        rest: list[int] = []
        for position, key in enumerate(keys):
            if not needle:
                first.append(position)
            else:
                at = key.find(needle)
                if at < 0:
                    continue
                # a match at the start of the id or of the label ("\t" separates them)
                (first if at == 0 or key[at - 1] == "\t" else rest).append(position)
            if len(first) >= limit:
                break
        chosen = (first + rest)[:limit]
        return [{"item": ids[p], "label": shown[p] or None} for p in chosen]

    def _search_table(self) -> tuple[list[Any], list[str], list[str]]:
        with self._lock:
            if self._search is None:
                counts = self.vocabulary.counts
                order = np.argsort(-counts, kind="stable")
                items = self.vocabulary.items[order].tolist()
                labels = [self.labels.get(item, "") for item in items]
                pairs = zip(items, labels, strict=True)
                keys = [f"{item}\t{label}".lower() for item, label in pairs]
                self._search = (items, keys, labels)
            return self._search

    # map ------------------------------------------------------------------------
    def pca(self) -> np.ndarray:
        """2-D coordinates of every item: the first two principal components of the
        unit vectors (cosine geometry), by NumPy's SVD."""
        with self._lock:
            if self._pca is None:
                unit = np.asarray(self.model.normed_vectors, dtype=np.float64)
                centred = unit - unit.mean(axis=0)
                # the right singular vectors of a sample give the axes; every item is projected
                rng = np.random.default_rng(self.map_seed)
                rows = centred
                if centred.shape[0] > 50_000:
                    rows = centred[rng.choice(centred.shape[0], 50_000, replace=False)]
                _, _, vt = np.linalg.svd(rows, full_matrices=False)
                axes = vt[:2]
                if axes.shape[0] < 2:  # one-dimensional vectors: a flat second axis
                    axes = np.vstack([axes, np.zeros((2 - axes.shape[0], unit.shape[1]))])
                # a sign per axis fixed by the data, so that reloads of one file draw one map
                coords = centred @ axes.T
                signs = np.sign(coords[np.argmax(np.abs(coords), axis=0), [0, 1]])
                signs[signs == 0] = 1
                self._pca = (coords * signs).astype(np.float32)
            return self._pca

    def map(self, max_points: int, method: str) -> dict[str, Any]:
        """The map's points (the ``max_points`` most frequent items) and the density
        of the whole catalogue in bins."""
        key = (method, max_points if method == "tsne" else 0)
        with self._lock:
            cached = self._maps.get(key)
        if cached is None:
            cached = self._tsne(max_points) if method == "tsne" else self._pca_map()
            with self._lock:
                self._maps[key] = cached
        n_points = min(max_points, cached["order"].shape[0])
        chosen = cached["order"][:n_points]
        coords = cached["coords"][chosen]
        items = self.vocabulary.items[cached["codes"][chosen]].tolist()
        return {
            "method": method,
            "n_items": len(self.vocabulary),
            "items": items,
            "labels": [self.labels.get(item) for item in items],
            "x": coords[:, 0].astype(float).tolist(),
            "y": coords[:, 1].astype(float).tolist(),
            "extent": cached["extent"],
            "bins": cached["bins"],
        }

    def _pca_map(self) -> dict[str, Any]:
        coords = self.pca()
        codes = np.arange(coords.shape[0])
        order = np.argsort(-self.vocabulary.counts, kind="stable")
        return self._with_bins(coords, codes, order)

    def _tsne(self, max_points: int) -> dict[str, Any]:
        try:
            from sklearn.manifold import TSNE
        except ImportError:
            raise ApiError(
                400, "method='tsne' needs scikit-learn (pip install scikit-learn); 'pca' does not"
            ) from None
        n = min(max_points, _TSNE_POINTS, len(self.vocabulary))
        codes = np.argsort(-self.vocabulary.counts, kind="stable")[:n]
        unit = np.asarray(self.model.normed_vectors, dtype=np.float32)[codes]
        perplexity = float(min(30.0, max(2.0, (n - 1) / 3)))
        coords = TSNE(
            n_components=2, perplexity=perplexity, init="pca", random_state=self.map_seed
        ).fit_transform(unit)
        return self._with_bins(coords.astype(np.float32), codes, np.arange(n))

    def _with_bins(
        self, coords: np.ndarray, codes: np.ndarray, order: np.ndarray
    ) -> dict[str, Any]:
        """``coords[i]`` belongs to item code ``codes[i]``; ``order`` ranks the rows."""
        finite = np.isfinite(coords).all(axis=1)
        shown = coords[finite] if finite.any() else np.zeros((1, 2), np.float32)
        low, high = shown.min(axis=0), shown.max(axis=0)
        pad = np.maximum((high - low) * 0.03, 1e-6)
        low, high = low - pad, high + pad
        counts, _, _ = np.histogram2d(
            shown[:, 0], shown[:, 1], bins=_BINS, range=[[low[0], high[0]], [low[1], high[1]]]
        )
        return {
            "coords": coords,
            "codes": codes,
            "order": order[finite[order]],
            "extent": [float(low[0]), float(high[0]), float(low[1]), float(high[1])],
            "bins": {"n": _BINS, "counts": counts.T.astype(int).ravel().tolist()},
        }

    def locate(self, items: list[Any], method: str, max_points: int) -> dict[str, Any]:
        """Map coordinates of the given items (unknown ones left out). With t-SNE an item
        outside the mapped sample sits at its nearest mapped item."""
        codes = self.vocabulary.codes_of(items, unknown="ignore")
        known = codes >= 0
        codes = codes[known]
        if method == "pca":
            coords = self.pca()[codes]
        else:
            self.map(max_points, method)
            with self._lock:
                cached = self._maps[(method, max_points)]
            mapped = cached["codes"]
            where = {int(c): i for i, c in enumerate(mapped.tolist())}
            unit = self.model.normed_vectors
            rows = []
            for code in codes.tolist():
                row = where.get(code)
                if row is None:
                    row = int(np.argmax(unit[mapped] @ unit[code]))
                rows.append(row)
            coords = cached["coords"][np.asarray(rows, dtype=np.int64)].reshape(-1, 2)
        found = [item for item, ok in zip(items, known.tolist(), strict=True) if ok]
        return {
            "items": found,
            "x": coords[:, 0].astype(float).tolist(),
            "y": coords[:, 1].astype(float).tolist(),
        }


class ModelHolder:
    """The model being served, replaced in one step by :meth:`reload`."""

    def __init__(
        self, path: str | os.PathLike[str], labels: str | os.PathLike[str] | None = None,
        map_method: str = "pca",
    ) -> None:  # fmt: skip
        self.path = os.fspath(path)
        self.labels_path = None if labels is None else os.fspath(labels)
        self.map_method = map_method
        self._reload_lock = threading.Lock()
        self.reloads = 0
        self.current = Served(self.path, self.labels_path, map_method)

    def reload(self) -> Served:
        """Load the file again; the new model replaces the old one only once loaded.

        Raises
        ------
        ReloadError
            When the file is missing or not a readable model (the old one stays).
        """
        with self._reload_lock:  # one load at a time; readers never wait
            try:
                fresh = Served(self.path, self.labels_path, self.map_method)
            except Exception as exc:  # any failure keeps the model being served
                reason = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
                raise ReloadError(
                    f"reload refused: {self.path} could not be loaded ({type(exc).__name__}: "
                    f"{reason}); still serving the model loaded at "
                    f"{self.current.loaded_at.isoformat()}"
                ) from exc
            self.current = fresh  # one reference assignment: requests see old or new
            self.reloads += 1
            return fresh


# --- the application ---------------------------------------------------------------


class _BodyLimit:
    """ASGI middleware: request bodies over ``max_body`` bytes get a 413 before the app."""

    def __init__(self, app: Any, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(
        self, scope: MutableMapping[str, Any], receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:  # fmt: skip
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            await self._refuse(send, int(declared))
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                await self._refuse(send, size)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Any:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Callable[[Any], Awaitable[None]], size: int) -> None:
        text = json.dumps(
            {
                "error": f"request body too large: {size} bytes or more, the limit is "
                f"{self.max_body} bytes (--max-body)"
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(text)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": text})


def _describe_validation(errors: Sequence[Any]) -> str:
    """Pydantic's errors as one sentence per field: where, what was received, what is accepted."""
    seen: dict[str, tuple[str, Any]] = {}
    for error in errors:
        loc = [part for part in error.get("loc", ()) if part not in ("body", "query")]
        union = bool(loc) and loc[-1] in ("int", "str") and error.get("type") in (
            "int_type", "string_type",
        )  # fmt: skip
        if union:
            loc = loc[:-1]
        where = (
            "".join(
                f"[{part}]" if isinstance(part, int) else (f".{part}" if i else str(part))
                for i, part in enumerate(loc)
            )
            or "the body"
        )
        kind = error.get("type", "")
        if kind == "json_invalid":
            where = "the body"
            message = f"malformed JSON ({error.get('ctx', {}).get('error', error.get('msg'))})"
        elif kind in ("model_attributes_type", "dict_type") and where == "the body":
            message = "must be a JSON object"
        elif kind == "missing":
            message = "is required"
        elif kind == "extra_forbidden":
            message = "is not an option of this endpoint"
        elif union:
            message = "must be an item id (an integer or a string)"
        else:
            message = str(error.get("msg", "is invalid")).lower()
        if where not in seen:
            seen[where] = (message, error.get("input"))
    parts = []
    for where, (message, received) in seen.items():
        got = "" if message.startswith(("is required", "malformed")) else f", got {received!r}"
        parts.append(f"{where}: {message}{got}" if where != "the body" or got else message)
    return "; ".join(parts)


def _finite_pairs(ids: np.ndarray, scores: np.ndarray) -> tuple[list[Any], list[float]]:
    valid = np.isfinite(scores)
    return ids[valid].tolist(), scores[valid].astype(float).tolist()


def create_app(
    model_path: str | os.PathLike[str],
    labels: str | os.PathLike[str] | None = None,
    limits: Limits | None = None,
    map_method: str = "pca",
) -> Any:
    """The ASGI application serving one model file.

    Parameters
    ----------
    model_path : path
        A model written by :meth:`Item2Vec.save` (with its index, if it has one).
        ``POST /reload`` (and SIGHUP under :func:`run_serve`) reads it again.
    labels : path, optional
        A CSV of ``id,label`` rows: the page shows and searches the labels.
    limits : Limits, optional
        Request sizes (see the module's documentation); the defaults otherwise.
    map_method : {"pca", "tsne"}, default="pca"
        The page's map; "tsne" needs scikit-learn.

    Returns
    -------
    fastapi.FastAPI
        The application; ``app.state.holder`` holds the model being served.

    Raises
    ------
    ImportError
        Without FastAPI (the ``serve`` extra).
    FileNotFoundError, ValueError
        When the model or the labels cannot be read.
    """
    try:
        from fastapi import Body, FastAPI, Query, Request
        from fastapi.exceptions import RequestValidationError
        from fastapi.responses import FileResponse, JSONResponse
        from fastapi.staticfiles import StaticFiles
        from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr
    except ImportError as exc:
        raise ImportError(
            f"item2vec serve needs FastAPI and uvicorn: pip install 'item2vec[serve]' ({exc})"
        ) from None
    if map_method not in _MAP_METHODS:
        raise ValueError(f"map_method must be one of {list(_MAP_METHODS)}, got {map_method!r}")
    limits = limits if limits is not None else Limits()
    bounds: Limits = limits
    holder = ModelHolder(model_path, labels, map_method)
    # warnings the answers already carry ("skipped", "fallback"): not repeated on stderr
    warnings.filterwarnings("ignore", category=UnknownItemsWarning, module=__name__)

    item_id = StrictInt | StrictStr
    option_text = "Left out: the model's remembered value (see /health); null: switched off."

    class RecommendBody(BaseModel):
        model_config = ConfigDict(extra="forbid")
        history: list[item_id] = Field(
            description=f"Item ids, oldest first (at most {bounds.max_history}); unknown ones "
            "are skipped and counted."
        )
        times: list[float] | None = Field(
            None, description="The time of each history event (for time_half_life)."
        )
        k: int = Field(10, description=f"How many items, 1..{bounds.max_k}.")
        exclude_seen: bool = Field(True, description="Leave out the history's items.")
        filter_items: list[item_id] | None = Field(None, description="Never recommend these.")
        last_n: int | None = Field(None, description=f"Only the last n events. {option_text}")
        half_life: float | None = Field(
            None, description=f"Recency weighting in events. {option_text}"
        )
        time_half_life: float | None = Field(
            None, description=f"Recency weighting in time units. {option_text}"
        )
        popularity: float | None = Field(
            None, description=f"Popularity prior weight. {option_text} (null: 0)."
        )
        exact: bool = Field(False, description="Score every item even with an index.")
        fallback: str | None = Field(
            "popularity",
            description="What a history with no known item gets: 'popularity' (the most "
            "frequent items), or null: a 404 naming its items.",
        )

    class BatchBody(BaseModel):
        model_config = ConfigDict(extra="forbid")
        histories: list[list[item_id]] = Field(
            description=f"One history per user (at most {bounds.max_batch})."
        )
        times: list[list[float]] | None = Field(None, description="One list per history.")
        k: int = 10
        exclude_seen: bool = True
        filter_items: list[item_id] | None = None
        last_n: int | None = None
        half_life: float | None = None
        time_half_life: float | None = None
        popularity: float | None = None
        exact: bool = False
        fallback: str | None = "popularity"

    class LocateBody(BaseModel):
        model_config = ConfigDict(extra="forbid")
        items: list[item_id]
        method: str = "pca"
        max_points: int = 5000

    description = (
        f"Queries of one item2vec model ({holder.path}). Ids are the model's ids (integers or "
        f"strings; a string spelling an integer id of an integer model is accepted). Limits: "
        f"request body {bounds.max_body} bytes (413), history length {bounds.max_history} "
        f"(413), histories per batch {bounds.max_batch} (413), k in 1..{bounds.max_k} "
        f"(400), map points {bounds.max_map_points} (400). Bad requests get a 400 JSON error "
        f"naming the field; unknown query items a 404."
    )
    app = FastAPI(title="item2vec", description=description, version=_version())
    app.state.holder = holder
    app.state.limits = bounds
    errors: dict[int | str, dict[str, Any]] = {
        400: {"description": "A malformed or out-of-range request (the error names it)"},
        404: {"description": "An unknown item"},
        413: {"description": "A body or history over the limits"},
    }

    @app.exception_handler(ApiError)
    async def on_api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": _describe_validation(exc.errors())}, status_code=400)

    def check_k(k: int) -> None:
        if not 1 <= k <= bounds.max_k:
            raise ApiError(400, f"k must be in 1..{bounds.max_k} (--max-k), got {k}")

    def check_length(name: str, values: Sequence[Any] | None, limit: int, flag: str) -> None:
        if values is not None and len(values) > limit:
            raise ApiError(
                413, f"{name} holds {len(values)} entries, the limit is {limit} ({flag})"
            )

    def options(served: Served, body: Any) -> dict[str, Any]:
        """The query options of a body: left out -> the model's, null -> off."""
        given = body.model_fields_set
        out: dict[str, Any] = {}
        for name in _REMEMBERED:
            if name not in given:
                out[name] = MODEL_SETTING
            else:
                value = getattr(body, name)
                out[name] = 0.0 if name == "popularity" and value is None else value
        if body.fallback not in (None, "popularity"):
            raise ApiError(400, f"fallback must be 'popularity' or null, got {body.fallback!r}")
        out["exclude_seen"] = body.exclude_seen
        out["exact"] = body.exact
        out["fallback"] = body.fallback
        if body.filter_items is not None:
            out["filter_items"] = [
                served.item_from_json(v, f"filter_items[{i}]")
                for i, v in enumerate(body.filter_items)
            ]
        return out

    def effective_last_n(served: Served, given: Any) -> int | None:
        value = served.model.query_options["last_n"] if given is MODEL_SETTING else given
        return value if isinstance(value, int) and value >= 1 else None

    def known_window(served: Served, history: list[Any], last_n: int | None) -> tuple[int, bool]:
        """(events of unknown items, whether the last_n window holds a known item)."""
        codes = served.vocabulary.codes_of(history, unknown="ignore")
        window = codes if last_n is None else codes[-last_n:]
        return int(np.count_nonzero(codes < 0)), bool((window >= 0).any())

    def query_error(exc: Exception) -> ApiError:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        return ApiError(404 if isinstance(exc, KeyError) else 400, str(message))

    @app.get("/health", summary="The model being served and its settings")
    def health() -> dict[str, Any]:
        served = holder.current
        model = served.model
        index = model.item_vectors_.indexes
        return {
            "status": "ok",
            "items": len(served.vocabulary),
            "vector_size": int(model.vectors_.shape[1]),
            "id_type": served.kind,
            "model": served.path,
            "loaded_at": served.loaded_at.isoformat(),
            "reloads": holder.reloads,
            "recommend_scoring": model.recommend_scoring,
            "query_options": model.query_options,
            "index": sorted(index),
            "labels": len(served.labels),
            "map_method": served.map_method,
            "limits": asdict(bounds),
        }

    @app.get("/similar", summary="Items most similar to one item", responses=errors)
    def similar(
        item: str = Query(description="An item id (read as an int for an int model)."),
        k: int = Query(10, description=f"How many neighbours, 1..{bounds.max_k}."),
        exact: bool = Query(False, description="Search every item even with an index."),
    ) -> dict[str, Any]:
        served = holder.current
        check_k(k)
        query = _id_from_text(served.kind, served.vocabulary, item)
        if query not in served.vocabulary:
            raise ApiError(404, f"item {item!r} is not in the model")
        try:
            pairs = served.model.most_similar(query, topn=k, exact=exact)
        except (KeyError, ValueError, TypeError) as exc:
            raise query_error(exc) from None
        neighbors = []
        for other, score in pairs:
            entry: dict[str, Any] = {"item": other, "score": score}
            if served.labels:
                entry["label"] = served.label(other)
            neighbors.append(entry)
        answer: dict[str, Any] = {"item": query, "neighbors": neighbors}
        if served.labels:
            answer["label"] = served.label(query)
        return answer

    @app.post("/recommend", summary="Recommendations after one history", responses=errors)
    def recommend(body: RecommendBody = Body()) -> dict[str, Any]:  # noqa: B008
        served = holder.current
        check_k(body.k)
        check_length("history", body.history, bounds.max_history, "--max-history")
        check_length("filter_items", body.filter_items, bounds.max_history, "--max-history")
        history = [served.item_from_json(v, f"history[{i}]") for i, v in enumerate(body.history)]
        if body.times is not None and len(body.times) != len(history):
            raise ApiError(
                400, f"times must hold one number per history event ({len(history)}), "
                f"got {len(body.times)}",
            )  # fmt: skip
        opts = options(served, body)
        skipped, any_known = known_window(served, history, effective_last_n(served, opts["last_n"]))
        if not any_known and opts["fallback"] is None:
            shown = ", ".join(repr(v) for v in history[:10]) or "(empty history)"
            raise ApiError(404, f"no item of the history is in the model: {shown}")
        try:
            ids, scores = served.model.recommend(history, topn=body.k, times=body.times, **opts)
        except (KeyError, ValueError, TypeError) as exc:
            raise query_error(exc) from None
        items, values = _finite_pairs(ids, scores)
        answer: dict[str, Any] = {
            "items": items,
            "scores": values,
            "skipped": skipped,
            "fallback": None if any_known else opts["fallback"],
        }
        if served.labels:
            answer["labels"] = [served.label(v) for v in items]
        return answer

    @app.post("/recommend_batch", summary="Recommendations for many histories", responses=errors)
    def recommend_batch(body: BatchBody = Body()) -> dict[str, Any]:  # noqa: B008
        served = holder.current
        check_k(body.k)
        check_length("histories", body.histories, bounds.max_batch, "--max-batch")
        check_length("filter_items", body.filter_items, bounds.max_history, "--max-history")
        histories = []
        for row, values in enumerate(body.histories):
            check_length(f"histories[{row}]", values, bounds.max_history, "--max-history")
            histories.append(
                [served.item_from_json(v, f"histories[{row}][{i}]") for i, v in enumerate(values)]
            )
        if body.times is not None:
            lengths = [len(t) for t in body.times]
            if lengths != [len(h) for h in histories]:
                raise ApiError(400, "times must hold one list per history, one number per event")
        opts = options(served, body)
        last_n = effective_last_n(served, opts["last_n"])
        skipped, fallback_rows = 0, []
        for row, history in enumerate(histories):
            n, any_known = known_window(served, history, last_n)
            skipped += n
            if not any_known:
                fallback_rows.append(row)
        batch: Any = histories
        if body.times is not None:
            from item2vec.corpus import Sequences, as_sequences

            plain = as_sequences(histories)
            stamps = np.asarray([t for row in body.times for t in row], dtype=np.float64)
            batch = Sequences(plain.codes, plain.offsets, plain.vocabulary, times=stamps)
        try:
            ids, scores = served.model.recommend_batch(batch, topn=body.k, **opts)
        except (KeyError, ValueError, TypeError) as exc:
            raise query_error(exc) from None
        items: list[list[Any]] = []
        row_scores: list[list[float]] = []
        for row in range(ids.shape[0]):
            got, score = _finite_pairs(ids[row], scores[row])
            items.append(got)
            row_scores.append(score)
        return {
            "items": items,
            "scores": row_scores,
            "skipped": skipped,
            "fallback_rows": fallback_rows if opts["fallback"] else [],
            "empty_rows": [] if opts["fallback"] else fallback_rows,
        }

    @app.post("/reload", summary="Load the model file again (as SIGHUP does)")
    def reload() -> JSONResponse:
        try:
            served = holder.reload()
        except ReloadError as exc:
            return JSONResponse({"error": str(exc)}, status_code=422)
        return JSONResponse(
            {
                "status": "reloaded",
                "items": len(served.vocabulary),
                "loaded_at": served.loaded_at.isoformat(),
                "reloads": holder.reloads,
            }
        )

    @app.get("/items", summary="Completion over item ids and labels")
    def items(
        q: str = Query("", description="Text the id or label contains."),
        limit: int = Query(20, description="At most this many, 1..100."),
    ) -> dict[str, Any]:
        if not 1 <= limit <= 100:
            raise ApiError(400, f"limit must be in 1..100, got {limit}")
        if len(q) > 200:
            raise ApiError(400, f"q must be at most 200 characters, got {len(q)}")
        return {"items": holder.current.complete(q, limit)}

    def check_map(method: str, max_points: int) -> None:
        if method not in _MAP_METHODS:
            raise ApiError(400, f"method must be one of {list(_MAP_METHODS)}, got {method!r}")
        if not 1 <= max_points <= bounds.max_map_points:
            raise ApiError(
                400, f"max_points must be in 1..{bounds.max_map_points} (--max-map-points), "
                f"got {max_points}",
            )  # fmt: skip

    @app.get("/map", summary="2-D map of the catalogue: sampled points and density bins")
    def map_points(
        max_points: int = Query(5000, description="Points drawn: the most frequent items."),
        method: str | None = Query(None, description="'pca' or 'tsne' (the server's default)."),
    ) -> dict[str, Any]:
        served = holder.current
        method = served.map_method if method is None else method
        check_map(method, max_points)
        return served.map(max_points, method)

    @app.post("/map/locate", summary="Map coordinates of given items")
    def map_locate(body: LocateBody = Body()) -> dict[str, Any]:  # noqa: B008
        served = holder.current
        check_map(body.method, body.max_points)
        check_length("items", body.items, bounds.max_history, "--max-history")
        wanted = [served.item_from_json(v, f"items[{i}]") for i, v in enumerate(body.items)]
        return served.locate(wanted, body.method, body.max_points)

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(_BodyLimit, max_body=bounds.max_body)
    return app


def _version() -> str:
    from item2vec._version import __version__

    return __version__


# --- command line ------------------------------------------------------------------


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``item2vec serve`` (added to ``parser``)."""
    defaults = Limits()
    parser.add_argument("model", help="model file written by 'item2vec fit' (.npz)")
    parser.add_argument(
        "--host", default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this machine only; 0.0.0.0: every "
        "interface)",
    )  # fmt: skip
    parser.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    parser.add_argument("--labels", help="CSV of id,label rows shown and searched by the page")
    parser.add_argument(
        "--workers", type=int, default=1,
        help="server processes (default: 1); with more, POST /reload reloads the process "
        "that answers it, and SIGHUP to the main process restarts every worker",
    )  # fmt: skip
    parser.add_argument(
        "--map", choices=_MAP_METHODS, default="pca", dest="map_method",
        help="the page's map: pca (default) or tsne (needs scikit-learn)",
    )  # fmt: skip
    for name, flag, what in (
        ("max_body", "--max-body", "bytes of a request body"),
        ("max_history", "--max-history", "events of one history"),
        ("max_batch", "--max-batch", "histories of one /recommend_batch request"),
        ("max_k", "--max-k", "largest k"),
        ("max_map_points", "--max-map-points", "points of one /map answer"),
    ):
        parser.add_argument(
            flag, type=int, default=getattr(defaults, name), dest=name,
            help=f"{what} (default: {getattr(defaults, name)})",
        )  # fmt: skip
    parser.add_argument(
        "--log-level", default="warning",
        choices=["critical", "error", "warning", "info", "debug"],
        help="uvicorn's log level (default: warning)",
    )  # fmt: skip


_ENVIRONMENT = "ITEM2VEC_SERVE_CONFIG"


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "model": os.path.abspath(args.model),
        "labels": None if args.labels is None else os.path.abspath(args.labels),
        "map_method": args.map_method,
        "limits": {name: getattr(args, name) for name in asdict(Limits())},
    }


def _app_from_settings(settings: dict[str, Any]) -> Any:
    return create_app(
        settings["model"], settings["labels"], Limits(**settings["limits"]),
        settings["map_method"],
    )  # fmt: skip


def _app_from_environment() -> Any:
    """The application of a worker process (``--workers`` > 1) from its parent's settings."""
    return _app_from_settings(json.loads(os.environ[_ENVIRONMENT]))


def run_serve(args: argparse.Namespace) -> None:
    """Serve ``args.model`` until interrupted (``item2vec serve``).

    The model (and labels) are loaded before the server starts, so a bad file
    fails at once. SIGHUP reloads the model file as ``POST /reload`` does (in
    a thread; the answer goes to stderr).

    Raises
    ------
    ImportError
        Without the ``serve`` extra.
    ValueError
        For an option out of range.
    """
    try:
        import uvicorn
    except ImportError as exc:
        raise ImportError(
            f"item2vec serve needs FastAPI and uvicorn: pip install 'item2vec[serve]' ({exc})"
        ) from None
    if not 0 <= args.port <= 65535:
        raise ValueError(f"--port must be in 0..65535, got {args.port}")
    if args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    settings = _settings(args)
    app = _app_from_settings(settings)  # loads and checks the files before listening
    holder: ModelHolder = app.state.holder
    served = holder.current
    where = "this machine only" if args.host in ("127.0.0.1", "localhost", "::1") else (
        "reachable from other machines"
    )  # fmt: skip
    print(
        f"item2vec serve: {served.path} ({len(served.vocabulary):,} items"
        f"{f', {len(served.labels):,} labels' if served.labels else ''}) on "
        f"http://{_url_host(args.host)}:{args.port}/ (bound to {args.host}: {where}); "
        f"API documentation at /docs",
        file=sys.stderr,
        flush=True,
    )
    if served.n_unknown_labels:
        print(
            f"item2vec serve: {served.n_unknown_labels} rows of --labels name no item of the "
            f"model (a header among them) and were left out",
            file=sys.stderr,
            flush=True,
        )
    if args.workers > 1:
        os.environ[_ENVIRONMENT] = json.dumps(settings)
        uvicorn.run(
            "item2vec.serve:_app_from_environment", factory=True, host=args.host,
            port=args.port, workers=args.workers, log_level=args.log_level,
        )  # fmt: skip
        return
    previous = _on_sighup(holder)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    finally:
        if previous is not None:
            signal.signal(signal.SIGHUP, previous)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _on_sighup(holder: ModelHolder) -> Any:
    """Reload on SIGHUP, in a thread: the handler runs on the event loop's thread,
    which must keep serving while the file loads."""
    if not hasattr(signal, "SIGHUP") or threading.current_thread() is not threading.main_thread():
        return None

    def reload_now() -> None:
        try:
            served = holder.reload()
        except ReloadError as exc:
            print(f"item2vec serve: SIGHUP: {exc}", file=sys.stderr, flush=True)
            return
        print(
            f"item2vec serve: SIGHUP: reloaded {served.path} ({len(served.vocabulary):,} items)",
            file=sys.stderr,
            flush=True,
        )

    def handler(signum: int, frame: Any) -> None:
        threading.Thread(target=reload_now, name="item2vec-reload", daemon=True).start()

    return signal.signal(signal.SIGHUP, handler)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m item2vec.serve MODEL [options]``: as ``item2vec serve``; the exit status."""
    parser = argparse.ArgumentParser(
        prog="item2vec serve", description="Serve one model's queries over HTTP, with a page."
    )
    add_serve_arguments(parser)
    args = parser.parse_args(argv)
    try:
        run_serve(args)
    except KeyboardInterrupt:
        return 130
    except (OSError, ValueError, TypeError, ImportError) as exc:
        print(f"item2vec serve: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    # through the importable module (not this __main__ copy), so that its warning
    # filters and the app factory uvicorn imports by name see one module
    import importlib

    sys.exit(importlib.import_module("item2vec.serve").main())
