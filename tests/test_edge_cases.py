"""Edge cases found in review: each test names the behaviour it guards."""

import os

import numpy as np
import pytest

from item2vec import Item2Vec, Sequences, Vocabulary, read_events
from item2vec.baselines import Popularity
from item2vec.evaluation import leave_last_out, temporal_split


def test_split_counts_describe_the_training_tokens_only():
    corpus = Sequences.from_iterable([["a", "b", "c"], ["a", "b", "c"], ["a", "d"]])
    split = leave_last_out(corpus)
    counts = np.bincount(split.train.codes, minlength=len(split.train.vocabulary))
    assert split.train.vocabulary.counts.tolist() == counts.tolist()
    # held-out-only items neither score in Popularity nor enter a model
    assert Popularity().fit(split.train).items_.tolist() == ["a", "b"]


def test_items_only_in_other_sequences_do_not_enter_the_model():
    corpus = Sequences.from_iterable([["a", "b"]] * 50 + [["x", "y"]] * 3)
    model = Item2Vec(vector_size=4, sample=0, epochs=1, n_jobs=1, random_state=0)
    model.fit(corpus.subset(np.arange(50)))
    assert model.items_.tolist() == ["a", "b"]


def test_read_events_keeps_numeric_looking_ids_distinct(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("user,item\nu1,001\nu1,1\nu2,12345678901234567890\nu2,12345678901234567891\n")
    corpus = read_events(path, user="user", item="item")
    assert corpus.to_lists() == [["001", "1"], ["12345678901234567890", "12345678901234567891"]]


def test_non_finite_query_vectors_are_rejected():
    model = Item2Vec(vector_size=4, sample=0, epochs=1, n_jobs=1, random_state=0)
    model.fit([["a", "b", "c"], ["c", "d"]])
    with pytest.raises(ValueError, match="finite"):
        model.similar_by_vector(np.full(4, np.nan))
    with pytest.raises(ValueError, match="needs positive"):
        model.most_similar(positive=[])


def test_nan_vectors_never_return_an_item_twice():
    model = Item2Vec(vector_size=4, sample=0, epochs=1, n_jobs=1, random_state=0)
    model.fit([["a", "b", "c"], ["c", "d"]])
    model.vectors_[0] = np.nan
    model.item_vectors_.changed()
    names = [item for item, _ in model.most_similar("b", topn=3)]
    assert len(names) == len(set(names))
    # the NaN item is left out; the others follow by cosine
    b = model.vocabulary_.code("b")
    unit = model.vectors_ / np.linalg.norm(model.vectors_, axis=1, keepdims=True)
    others = [code for code in range(1, len(model.items_)) if code != b]
    others.sort(key=lambda code: -float(unit[code] @ unit[b]))
    assert names == model.items_[others].tolist()


def test_word2vec_text_with_trailing_spaces_is_read(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("2 3\na 0.1 0.2 0.3 \nb 0.3 0.2 0.1 \n")
    model = Item2Vec.load_word2vec_format(path)
    np.testing.assert_allclose(model.get_vector("a"), [0.1, 0.2, 0.3], rtol=1e-6)


def test_mixed_signed_and_unsigned_arrays_keep_exact_ids():
    a = np.array([2**62, 2**62 + 1], dtype=np.int64)
    b = np.array([5], dtype=np.uint64)
    corpus = Sequences.from_iterable([a, b])
    assert corpus.to_lists() == [[2**62, 2**62 + 1], [5]]


def test_temporal_split_refuses_unordered_times():
    corpus = Sequences(
        np.array([0, 1, 2, 3]), np.array([0, 4]), Vocabulary(list("abcd"), [1] * 4),
        times=np.array([1.0, 10.0, 2.0, 3.0]),
    )  # fmt: skip
    with pytest.raises(ValueError, match="times in order"):
        temporal_split(corpus, cutoff=5.0)


def test_subset_takes_a_boolean_mask():
    corpus = Sequences.from_iterable([["a"], ["b"], ["c"]])
    assert corpus.subset(np.array([False, True, True])).to_lists() == [["b"], ["c"]]
    with pytest.raises(TypeError, match="integers"):
        corpus.subset([0.9, 2.7])


def test_event_dicts_of_python_lists_keep_id_types():
    # str ids that look like numbers stay str, and order as text: "10" before "2"
    corpus = Sequences.from_events({"user": ["2", "10", "1"], "item": [10, 11, 12]}, "user", "item")
    assert corpus.to_lists() == [[12], [11], [10]]
    assert corpus.users.tolist() == ["1", "10", "2"]


def test_time_zone_aware_and_far_future_times():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({
        "user": [1, 1, 2], "item": list("abc"),
        "t": pd.to_datetime(["2024-01-02", "2024-01-01", "2024-01-03"]).tz_localize("UTC"),
    })  # fmt: skip
    assert Sequences.from_events(frame, "user", "item", time="t").to_lists() == [["b", "a"], ["c"]]
    events = {
        "user": [1, 1], "item": ["late", "early"],
        "t": np.array(["2500-01-01", "2024-01-01"], dtype="datetime64[D]"),
    }  # fmt: skip
    assert Sequences.from_events(events, "user", "item", time="t").to_lists() == [["early", "late"]]


def test_numpy_integer_ids_and_parameters_can_be_saved(tmp_path):
    seqs = [[np.int64(1), np.int64(2), np.int64(3)]] * 10
    model = Item2Vec(vector_size=np.int64(4), sample=0, epochs=1, n_jobs=1, random_state=0)
    model.fit(seqs).save(tmp_path / "m.npz")
    assert Item2Vec.load(tmp_path / "m.npz").items_.tolist() == [1, 2, 3]


def test_tiny_half_life_still_recommends():
    model = Item2Vec(vector_size=4, epochs=1, popularity=0.0, n_jobs=1, random_state=0)
    model.fit([["a", "b", "c"], ["c", "d"]] * 5)
    # "a" is one event before the end, so its raw weight 0.5 ** 1e4 underflows to 0;
    # as the only known event it must still weigh 1
    ids, scores = model.recommend(["a", "zzz"], topn=2, half_life=1e-4)
    a = model.vocabulary_.code("a")
    expected = model.output_vectors_.astype(np.float64) @ model.vectors_[a]
    expected[a] = -np.inf
    assert ids.tolist() == model.items_[np.argsort(-expected, kind="stable")[:2]].tolist()
    np.testing.assert_allclose(scores, np.sort(expected)[::-1][:2], rtol=1e-5)


def test_saved_files_follow_the_umask(tmp_path):
    model = Item2Vec(vector_size=4, sample=0, epochs=1, n_jobs=1, random_state=0)
    model.fit([["a", "b"]] * 5).save(tmp_path / "m.npz")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "m.npz").stat().st_mode & 0o777 == 0o666 & ~umask
