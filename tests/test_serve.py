"""item2vec serve: every endpoint equals the Python call it mirrors; bad requests get 4xx
JSON errors naming the problem; reload (POST /reload and SIGHUP) swaps the model in one step
and refuses corrupt or missing files; a live server answers concurrent requests during
reloads without a failure."""

import json
import os
import shutil
import signal
import threading
import time

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="item2vec serve needs the serve extra (FastAPI)")
pytest.importorskip("httpx", reason="FastAPI's TestClient needs httpx")

import httpx
from fastapi.testclient import TestClient
from live_server import live_server

from item2vec import Item2Vec
from item2vec.datasets import planted_sessions
from item2vec.serve import Limits, ModelHolder, ReloadError, create_app

pytestmark = pytest.mark.filterwarnings("ignore::item2vec.neighbors.UnknownItemsWarning")


def _fit(n_items, seed, ids=None, **params):
    data = planted_sessions(
        n_sessions=300, n_items=n_items, n_clusters=4, mean_length=8, random_state=seed
    )
    sequences = data.sequences
    if ids is not None:
        sequences = [[ids(int(item)) for item in seq] for seq in sequences]
    model = Item2Vec(vector_size=8, epochs=3, n_jobs=1, random_state=seed, **params)
    return model.fit(sequences)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    # remembered query options unlike the defaults, so "left out" and "null" differ
    int_model = _fit(40, 0, last_n=2, half_life=3.0, popularity=0.5)
    other = _fit(30, 1)
    str_model = _fit(40, 2, ids=lambda i: f"s{i}")
    paths = {
        "int": folder / "int.npz", "other": folder / "other.npz", "str": folder / "str.npz",
    }  # fmt: skip
    int_model.save(paths["int"])
    other.save(paths["other"])
    str_model.save(paths["str"])
    labels = folder / "labels.csv"
    labels.write_text(
        "id,label\n" + "".join(f"{i},Title number {i}\n" for i in range(40)) + "999,no such\n"
    )
    return {
        "paths": paths,
        "labels": labels,
        "int": Item2Vec.load(paths["int"]),
        "other": Item2Vec.load(paths["other"]),
        "str": Item2Vec.load(paths["str"]),
    }


@pytest.fixture(scope="module")
def client(files):
    return TestClient(create_app(files["paths"]["int"], labels=files["labels"]))


@pytest.fixture(scope="module")
def str_client(files):
    return TestClient(create_app(files["paths"]["str"]))


def _pairs(answer):
    return [(entry["item"], entry["score"]) for entry in answer["neighbors"]]


def _arrays(ids, scores):
    return [v.item() if hasattr(v, "item") else v for v in ids], [float(s) for s in scores]


# --- the endpoints equal the Python calls -------------------------------------------------


def test_health_reports_the_model(client, files):
    answer = client.get("/health").json()
    assert answer["status"] == "ok"
    assert answer["items"] == 40
    assert answer["id_type"] == "int"
    assert answer["query_options"] == {
        "last_n": 2, "half_life": 3.0, "time_half_life": None, "popularity": 0.5,
    }  # fmt: skip
    assert answer["labels"] == 40  # the header and id 999 name no item
    assert answer["limits"]["max_k"] == Limits().max_k


@pytest.mark.parametrize("item, k", [(0, 5), (7, 1), (39, 10), (3, 100)])
def test_similar_equals_most_similar(client, files, item, k):
    answer = client.get("/similar", params={"item": str(item), "k": k}).json()
    assert answer["item"] == item
    assert _pairs(answer) == files["int"].most_similar(item, topn=k)
    assert answer["neighbors"][0]["label"] == f"Title number {answer['neighbors'][0]['item']}"


def test_similar_on_string_ids(str_client, files):
    answer = str_client.get("/similar", params={"item": "s4", "k": 6}).json()
    assert answer["item"] == "s4"
    assert _pairs(answer) == files["str"].most_similar("s4", topn=6)


def test_similar_unknown_item_is_404_naming_it(client, str_client):
    response = client.get("/similar", params={"item": "12345"})
    assert response.status_code == 404
    assert "'12345'" in response.json()["error"]
    # a text that spells an int is not an id of a model with string ids
    assert str_client.get("/similar", params={"item": "4"}).status_code == 404


def test_recommend_leaving_options_out_uses_the_models(client, files):
    history = [3, 7, 11]
    answer = client.post("/recommend", json={"history": history, "k": 6}).json()
    ids, scores = files["int"].recommend(history, topn=6, fallback="popularity")
    assert (answer["items"], answer["scores"]) == _arrays(ids, scores)
    assert answer["skipped"] == 0 and answer["fallback"] is None
    assert answer["labels"] == [f"Title number {i}" for i in answer["items"]]


def test_recommend_null_switches_a_remembered_option_off(client, files):
    history = [3, 7, 11, 15]
    body = {"history": history, "k": 6, "last_n": None, "half_life": None, "popularity": None}
    answer = client.post("/recommend", json=body).json()
    ids, scores = files["int"].recommend(
        history, topn=6, last_n=None, half_life=None, popularity=0.0
    )
    assert (answer["items"], answer["scores"]) == _arrays(ids, scores)
    # the model remembers last_n=2: leaving the options out ranks otherwise
    remembered = client.post("/recommend", json={"history": history, "k": 6}).json()
    assert remembered["scores"] != answer["scores"]


def test_recommend_with_every_option(client, files):
    history = [1, 2, 5, 9]
    times = [10.0, 20.0, 40.0, 41.0]
    body = {
        "history": history, "times": times, "k": 8, "exclude_seen": False,
        "filter_items": [0, 4], "last_n": 3, "half_life": 1.5, "time_half_life": 15.0,
        "popularity": 0.1, "exact": True, "fallback": None,
    }  # fmt: skip
    answer = client.post("/recommend", json=body).json()
    ids, scores = files["int"].recommend(
        history, topn=8, exclude_seen=False, filter_items=[0, 4], last_n=3, half_life=1.5,
        time_half_life=15.0, popularity=0.1, times=times, exact=True,
    )  # fmt: skip
    assert (answer["items"], answer["scores"]) == _arrays(ids, scores)
    assert 0 not in answer["items"] and 4 not in answer["items"]
    assert set(history) & set(answer["items"])  # exclude_seen=False keeps seen items


def test_recommend_ids_spelled_as_strings_of_an_int_model(client, files):
    spelled = client.post("/recommend", json={"history": ["3", "7"], "k": 5}).json()
    plain = client.post("/recommend", json={"history": [3, 7], "k": 5}).json()
    assert spelled == plain


def test_recommend_skips_and_counts_unknown_items(client, files):
    history = [3, 999, "x", 7]
    answer = client.post("/recommend", json={"history": history, "k": 5}).json()
    expected = files["int"].recommend(history, topn=5, fallback="popularity")
    assert (answer["items"], answer["scores"]) == _arrays(*expected)
    assert answer["skipped"] == 2
    assert answer["fallback"] is None


def test_recommend_without_known_items_gets_the_popular_ones(client, files):
    answer = client.post("/recommend", json={"history": [999, 1000], "k": 4}).json()
    model = files["int"]
    ranked = model.items_[np.argsort(-model.vocabulary_.counts, kind="stable")].tolist()
    assert answer["items"] == ranked[:4]
    top_counts = np.sort(model.vocabulary_.counts)[::-1][:4]
    assert answer["scores"] == pytest.approx(np.log(top_counts).tolist(), rel=1e-6)
    assert answer["fallback"] == "popularity" and answer["skipped"] == 2
    # the model's last_n=2 window holds no known item: the fallback, the seen item 3 left out
    windowed = client.post("/recommend", json={"history": [3, 999, 1000], "k": 4}).json()
    assert windowed["fallback"] == "popularity"
    assert windowed["items"] == [i for i in ranked if i != 3][:4]


def test_recommend_without_fallback_is_404_naming_the_items(client):
    response = client.post("/recommend", json={"history": [999, 1000], "fallback": None})
    assert response.status_code == 404
    assert "999" in response.json()["error"] and "1000" in response.json()["error"]


def test_recommend_batch_equals_recommend_batch(client, files):
    histories = [[3, 7], [999], [1, 2, 5], ["11"]]
    body = {"histories": histories, "k": 5, "half_life": None}
    answer = client.post("/recommend_batch", json=body).json()
    typed = [[3, 7], [999], [1, 2, 5], [11]]
    ids, scores = files["int"].recommend_batch(typed, topn=5, half_life=None, fallback="popularity")
    assert answer["items"] == ids.tolist()
    assert answer["scores"] == scores.astype(float).tolist()
    assert answer["fallback_rows"] == [1]
    assert answer["skipped"] == 1


def test_recommend_batch_with_times(client, files):
    from item2vec.corpus import Sequences, as_sequences

    histories = [[3, 7, 9], [1, 2]]
    times = [[0.0, 5.0, 6.0], [1.0, 100.0]]
    body = {"histories": histories, "times": times, "k": 4, "time_half_life": 2.0}
    answer = client.post("/recommend_batch", json=body).json()
    plain = as_sequences(histories)
    stamps = np.array([0.0, 5.0, 6.0, 1.0, 100.0])
    batch = Sequences(plain.codes, plain.offsets, plain.vocabulary, times=stamps)
    ids, scores = files["int"].recommend_batch(batch, topn=4, time_half_life=2.0)
    assert answer["items"] == ids.tolist()
    assert answer["scores"] == scores.astype(float).tolist()


def test_string_model_takes_strings_and_refuses_numbers(str_client, files):
    answer = str_client.post("/recommend", json={"history": ["s1", "s2"], "k": 3}).json()
    assert (answer["items"], answer["scores"]) == _arrays(
        *files["str"].recommend(["s1", "s2"], topn=3, fallback="popularity")
    )
    response = str_client.post("/recommend", json={"history": ["s1", 2]})
    assert response.status_code == 400
    assert "history[1]" in response.json()["error"] and "strings" in response.json()["error"]


# --- bad requests ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, status, named",
    [
        (b"{not json", 400, "malformed JSON"),
        (b"[1, 2]", 400, "JSON object"),
        (json.dumps({"k": 3}).encode(), 400, "history: is required"),
        (json.dumps({"history": "3,7"}).encode(), 400, "history"),
        (json.dumps({"history": [3, 1.5]}).encode(), 400, "history[1]"),
        (json.dumps({"history": [3, True]}).encode(), 400, "history[1]"),
        (json.dumps({"history": [3], "k": 0}).encode(), 400, "k must be in 1..1000"),
        (json.dumps({"history": [3], "k": 1001}).encode(), 400, "got 1001"),
        (json.dumps({"history": [3], "k": "ten"}).encode(), 400, "k:"),
        (json.dumps({"history": [3], "topn": 5}).encode(), 400, "topn: is not an option"),
        (json.dumps({"history": [3], "last_n": 0}).encode(), 400, "last_n"),
        (json.dumps({"history": [3], "half_life": -1}).encode(), 400, "half_life"),
        (json.dumps({"history": [3], "fallback": "random"}).encode(), 400, "fallback"),
        (json.dumps({"history": [3, 4], "times": [1.0]}).encode(), 400, "times"),
    ],
)
def test_bad_recommend_requests_name_the_problem(client, body, status, named):
    response = client.post("/recommend", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status
    assert named in response.json()["error"]
    # and the server keeps serving
    assert client.post("/recommend", json={"history": [3]}).status_code == 200


def test_bad_similar_requests(client):
    for params, named in [
        ({"item": "3", "k": "0"}, "k must be in 1..1000"),
        ({"item": "3", "k": "x"}, "k:"),
        ({"k": "3"}, "item: is required"),
    ]:
        response = client.get("/similar", params=params)
        assert response.status_code == 400
        assert named in response.json()["error"]


def test_size_limits_are_enforced_and_documented(files):
    limits = Limits(max_body=2000, max_history=5, max_batch=2, max_k=7)
    small = TestClient(create_app(files["paths"]["int"], limits=limits))
    too_long = small.post("/recommend", json={"history": [1] * 6, "k": 3})
    assert too_long.status_code == 413
    assert "history holds 6 entries, the limit is 5" in too_long.json()["error"]
    assert small.post("/recommend", json={"history": [1] * 5, "k": 3}).status_code == 200
    assert small.post("/recommend_batch", json={"histories": [[1]] * 3, "k": 3}).status_code == 413
    assert small.post("/recommend_batch", json={"histories": [[1]] * 2, "k": 3}).status_code == 200
    assert small.get("/similar", params={"item": "3", "k": 8}).status_code == 400
    assert small.get("/similar", params={"item": "3", "k": 7}).status_code == 200
    big = small.post(
        "/recommend", content=b" " * 2001, headers={"content-type": "application/json"}
    )
    assert big.status_code == 413
    assert "2000 bytes" in big.json()["error"]
    # the limits are in the OpenAPI description
    description = small.get("/openapi.json").json()["info"]["description"]
    assert "request body 2000 bytes" in description and "history length 5" in description


# --- completion, map and page -----------------------------------------------------------


def test_completion_finds_ids_and_labels(client, files):
    answer = client.get("/items", params={"q": "title number 17"}).json()["items"]
    assert answer[0] == {"item": 17, "label": "Title number 17"}
    by_id = client.get("/items", params={"q": "2", "limit": 50}).json()["items"]
    shown = [entry["item"] for entry in by_id]
    # ids and labels starting with "2" first; each group most frequent first
    starts = [i for i in shown if str(i).startswith("2")]
    assert shown[: len(starts)] == starts
    counts = files["int"].vocabulary_.counts
    code = {item: c for c, item in enumerate(files["int"].items_.tolist())}
    assert [counts[code[i]] for i in starts] == sorted(
        (counts[code[i]] for i in starts), reverse=True
    )
    assert set(shown) == {i for i in range(40) if "2" in str(i)}
    assert client.get("/items", params={"limit": 0}).status_code == 400


def test_map_is_the_pca_of_the_unit_vectors(client, files):
    answer = client.get("/map", params={"max_points": 15}).json()
    model = files["int"]
    order = np.argsort(-model.vocabulary_.counts, kind="stable")[:15]
    assert answer["items"] == model.items_[order].tolist()
    assert answer["labels"] == [f"Title number {i}" for i in answer["items"]]
    # an independent PCA: the covariance's two leading eigenvectors (signs are free)
    unit = model.vectors_ / np.linalg.norm(model.vectors_, axis=1, keepdims=True)
    centred = unit - unit.mean(axis=0)
    _, vectors = np.linalg.eigh(centred.T @ centred)
    reference = centred @ vectors[:, ::-1][:, :2]
    got = np.column_stack([answer["x"], answer["y"]])
    np.testing.assert_allclose(np.abs(got), np.abs(reference[order]), atol=1e-4)
    assert sum(answer["bins"]["counts"]) == 40  # every item in the density
    located = client.post("/map/locate", json={"items": [int(order[0]), 999]}).json()
    assert located["items"] == [int(order[0])]
    assert [located["x"][0], located["y"][0]] == [answer["x"][0], answer["y"][0]]
    assert client.get("/map", params={"max_points": 0}).status_code == 400
    assert client.get("/map", params={"method": "umap"}).status_code == 400


def test_page_and_its_files_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "<canvas" in page.text
    assert "http" not in page.text.replace("http-equiv", "")  # nothing fetched from elsewhere
    assert "function drawMap" in client.get("/static/app.js").text
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/docs").status_code == 200


# --- reload -------------------------------------------------------------------------


def test_reload_swaps_in_one_step_and_refuses_bad_files(files, tmp_path):
    served = tmp_path / "model.npz"
    shutil.copy(files["paths"]["int"], served)
    app = create_app(served)
    api = TestClient(app)
    old = app.state.holder.current
    shutil.copy(files["paths"]["other"], tmp_path / "next.npz")
    os.replace(tmp_path / "next.npz", served)
    assert api.post("/reload").json()["items"] == 30
    assert api.get("/health").json()["items"] == 30
    assert _pairs(api.get("/similar", params={"item": "3", "k": 4}).json()) == files[
        "other"
    ].most_similar(3, topn=4)
    # a request that took the old model before the reload still reads the old model
    assert old.model.most_similar(3, topn=4) == files["int"].most_similar(3, topn=4)
    before = app.state.holder.current
    served.write_bytes(b"PK\x03\x04 not a model")
    refused = api.post("/reload")
    assert refused.status_code == 422
    assert "reload refused" in refused.json()["error"] and str(served) in refused.json()["error"]
    assert app.state.holder.current is before
    served.unlink()
    assert api.post("/reload").status_code == 422
    assert api.get("/similar", params={"item": "3", "k": 4}).status_code == 200
    assert api.get("/health").json()["reloads"] == 1


def test_holder_keeps_the_old_model_when_a_load_fails(files, tmp_path):
    served = tmp_path / "model.npz"
    shutil.copy(files["paths"]["int"], served)
    holder = ModelHolder(served)
    first = holder.current
    served.write_bytes(b"")
    with pytest.raises(ReloadError, match="still serving"):
        holder.reload()
    assert holder.current is first and holder.reloads == 0


# --- a live server ---------------------------------------------------------------------


@pytest.fixture
def live(files, tmp_path):
    """A server in a subprocess on 127.0.0.1 over a copy of the int model."""
    served = tmp_path / "model.npz"
    shutil.copy(files["paths"]["int"], served)
    with live_server(served, tmp_path) as (base, process):
        yield {"base": base, "path": served, "process": process, "log": tmp_path / "stderr.txt"}


def test_live_reloads_under_concurrent_requests(live, files, tmp_path):
    base, served = live["base"], live["path"]
    said = live["log"].read_text()
    assert "http://127.0.0.1:" in said and "this machine only" in said
    statuses, errors = [], []
    stop = threading.Event()

    def hammer(n):
        with httpx.Client(base_url=base, timeout=30) as http:
            for i in range(n):  # bounded loop on loopback
                try:
                    if i % 2:
                        reply = http.get("/similar", params={"item": str(i % 30), "k": 5})
                    else:
                        reply = http.post("/recommend", json={"history": [i % 30, 3], "k": 5})
                    statuses.append(reply.status_code)
                except httpx.HTTPError as exc:
                    errors.append(repr(exc))
                if stop.is_set() and i > 20:
                    return

    workers = [threading.Thread(target=hammer, args=(150,)) for _ in range(3)]
    for worker in workers:
        worker.start()
    outcomes = []
    with httpx.Client(base_url=base, timeout=30) as http:
        for source in ("other", "int", None, "other"):
            staged = tmp_path / "staged.npz"
            if source is None:
                staged.write_bytes(b"corrupt")
            else:
                shutil.copy(files["paths"][source], staged)
            os.replace(staged, served)
            outcomes.append(http.post("/reload").status_code)
    stop.set()
    for worker in workers:
        worker.join()
    assert outcomes == [200, 200, 422, 200]
    assert not errors
    assert statuses and set(statuses) == {200}
    health = httpx.get(f"{base}/health").json()
    assert health["items"] == 30 and health["reloads"] == 3


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP on this platform")
def test_live_sighup_reloads_and_refuses_a_corrupt_file(live, files, tmp_path):
    base, served, process = live["base"], live["path"], live["process"]
    staged = tmp_path / "staged.npz"
    shutil.copy(files["paths"]["other"], staged)
    os.replace(staged, served)
    process.send_signal(signal.SIGHUP)
    health = None
    for _ in range(200):  # bounded wait for the reload thread
        health = httpx.get(f"{base}/health").json()
        if health["reloads"] == 1:
            break
        time.sleep(0.05)
    assert health["items"] == 30 and health["reloads"] == 1
    served.write_bytes(b"corrupt")
    process.send_signal(signal.SIGHUP)
    for _ in range(200):
        if "SIGHUP: reload refused" in live["log"].read_text():
            break
        time.sleep(0.05)
    assert "SIGHUP: reload refused" in live["log"].read_text()
    health = httpx.get(f"{base}/health").json()
    assert health["items"] == 30 and health["reloads"] == 1
    answer = httpx.get(f"{base}/similar", params={"item": "3", "k": 4}).json()
    assert _pairs(answer) == files["other"].most_similar(3, topn=4)
