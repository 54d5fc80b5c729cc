"""Ids of every integer dtype, and save targets that are not regular files."""

import os

import numpy as np
import pytest

from item2vec import Item2Vec

INT_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]


def _ids(dtype):
    info = np.iinfo(dtype)
    # the extremes of the dtype, where a cast to int64 (or to float) changes them
    return np.array([info.max, info.min, info.max - 1, info.min + 1, 3], dtype=dtype)


def _fitted(ids):
    sessions = [ids[[0, 1, 2]], ids[[1, 2, 3]], ids[[0, 3, 4]], ids[[2, 4, 0]]] * 10
    return Item2Vec(vector_size=4, sample=0, epochs=1, n_jobs=1, random_state=0).fit(sessions)


@pytest.mark.parametrize("dtype", INT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_integer_ids_keep_dtype_and_value_through_save_and_load(dtype, tmp_path):
    ids = _ids(dtype)
    model = _fitted(ids)
    assert model.items_.dtype == dtype
    model.save(tmp_path / "m.npz")
    loaded = Item2Vec.load(tmp_path / "m.npz")
    assert loaded.items_.dtype == dtype
    assert loaded.items_.tolist() == model.items_.tolist()
    assert sorted(loaded.items_.tolist()) == sorted(ids.tolist())


@pytest.mark.parametrize("dtype", INT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_integer_ids_round_trip_through_the_word2vec_format(dtype, tmp_path):
    model = _fitted(_ids(dtype))
    model.save_word2vec_format(tmp_path / "v.txt")
    loaded = Item2Vec.load_word2vec_format(tmp_path / "v.txt", item_type=int)
    assert loaded.items_.tolist() == model.items_.tolist()


@pytest.mark.parametrize("dtype", INT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_padding_fits_the_id_dtype(dtype):
    ids = _ids(dtype)
    model = _fitted(ids)
    # five items, all seen but one: three slots of topn=4 stay empty
    got, scores = model.recommend_batch([ids[[0, 1, 2, 3]].tolist()], topn=4)
    assert np.isfinite(scores[0, :1]).all() and np.isneginf(scores[0, 1:]).all()
    assert got[0, 0] == ids[4]
    if np.dtype(dtype).kind == "i":
        assert got.dtype == dtype and got[0, 1:].tolist() == [-1, -1, -1]
    else:  # an unsigned array cannot hold -1: object ids, None in the padding
        assert got.dtype == object and got[0, 1:].tolist() == [None, None, None]


def test_saving_through_a_symlink_replaces_its_target_and_keeps_the_link(tmp_path):
    model = _fitted(_ids(np.int64))
    target = tmp_path / "models" / "current.npz"
    target.parent.mkdir()
    target.write_bytes(b"old")
    link = tmp_path / "model.npz"
    link.symlink_to(target)
    model.save(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert Item2Vec.load(target).items_.tolist() == model.items_.tolist()
    assert sorted(p.name for p in target.parent.iterdir()) == ["current.npz"]


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_saving_over_a_fifo_or_directory_is_refused(tmp_path, kind):
    model = _fitted(_ids(np.int64))
    path = tmp_path / "target"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()
    with pytest.raises(ValueError, match="is not a regular file"):
        model.save(path)
    assert path.is_fifo() if kind == "fifo" else path.is_dir()
    with pytest.raises(ValueError, match="is not a regular file"):
        model.save_word2vec_format(path)


def test_sigterm_during_a_save_removes_the_temporary_file(tmp_path):
    import subprocess
    import sys
    import textwrap

    model = _fitted(_ids(np.int64))
    path = tmp_path / "m.npz"
    model.save(path)
    script = textwrap.dedent(f"""
        import os, signal, numpy as np
        from item2vec import Item2Vec
        model = Item2Vec.load({str(path)!r})
        real = np.savez
        def savez_then_terminate(handle, **arrays):
            real(handle, **arrays)
            os.kill(os.getpid(), signal.SIGTERM)
        np.savez = savez_then_terminate
        model.save({str(path)!r})
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert result.returncode == 128 + 15, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]
    assert Item2Vec.load(path).items_.tolist() == model.items_.tolist()


def test_unsigned_ids_beyond_int64_round_trip_through_the_command_line(tmp_path, capsys):
    from item2vec.cli import main
    from item2vec.io import load_word2vec_format

    top = 2**64 - 1  # int64 or float64 on the way would change it
    ids = [top - k for k in range(6)]
    sessions = [[ids[k % 6], ids[(k + 1) % 6], ids[(k + 2) % 6]] for k in range(60)]
    lines = ["user,item"] + [f"{u},{item}" for u, s in enumerate(sessions) for item in s]
    (tmp_path / "events.csv").write_text("\n".join(lines) + "\n")
    model_path = tmp_path / "m.npz"
    main([
        "fit", str(tmp_path / "events.csv"), "--user", "user", "--item", "item",
        "-o", str(model_path), "--vector-size", "4", "--epochs", "1", "--sample", "0",
    ])  # fmt: skip
    model = Item2Vec.load(model_path)
    # plain integer ids in a text file are integers, here uint64: exact, not through float64
    assert model.items_.dtype == np.uint64
    assert sorted(model.items_.tolist()) == sorted(ids)
    capsys.readouterr()

    main(["similar", str(model_path), str(top), "-k", "5"])
    printed = [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()]
    assert printed == [str(item) for item, _ in model.most_similar(top, topn=5)]

    main(["recommend", str(model_path), "--history", f"{top},{top - 1}", "-k", "4"])
    printed = [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()]
    assert printed == [str(i) for i in model.recommend([top, top - 1], topn=4)[0].tolist()]

    main(["export", str(model_path), "--format", "word2vec-text", "-o", str(tmp_path / "v.txt")])
    exported = load_word2vec_format(tmp_path / "v.txt")
    assert exported.vocabulary.items.tolist() == [str(item) for item in model.items_.tolist()]
    as_ints = load_word2vec_format(tmp_path / "v.txt", item_type=int).vocabulary.items
    assert as_ints.tolist() == model.items_.tolist()


def test_integer_ids_beyond_int64_in_python_lists_stay_distinct():
    from item2vec import Sequences

    big = [2**64 + 1, 2**64 + 2, 2**64 + 1]  # equal as float64
    corpus = Sequences.from_events({"u": [1, 1, 1], "i": big}, user="u", item="i")
    assert corpus.to_lists() == [big]
    assert len(corpus.vocabulary) == 2
