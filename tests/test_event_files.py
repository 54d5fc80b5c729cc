"""Event files in other encodings or compressed: read, or refused with the reason."""

import gzip
import re

import pytest

from item2vec import read_events
from item2vec.cli import main

ROWS = "user,item,time\nu1,é1,2\nu1,b,1\nu2,c,5\n"
EXPECTED = [["b", "é1"], ["c"]]


def _read(path):
    return read_events(path, user="user", item="item", time="time").to_lists()


@pytest.fixture(params=["pyarrow", "stdlib"])
def reader(request, without_module):
    """Each test once with pyarrow's CSV reader and once with the standard library's."""
    if request.param == "stdlib":
        without_module("pyarrow")


def test_a_gzip_compressed_csv_is_read(tmp_path, reader):
    path = tmp_path / "events.csv.gz"
    path.write_bytes(gzip.compress(ROWS.encode()))
    assert _read(path) == EXPECTED


def test_a_utf16_csv_with_its_byte_order_mark_is_read(tmp_path, reader):
    path = tmp_path / "events.csv"
    path.write_bytes(ROWS.encode("utf-16"))
    assert _read(path) == EXPECTED


def test_a_csv_in_another_encoding_names_the_problem(tmp_path, reader):
    path = tmp_path / "events.csv"
    path.write_bytes(ROWS.encode("latin-1"))
    with pytest.raises(ValueError, match=r"is not UTF-8 text .*convert it to UTF-8"):
        _read(path)


def test_the_command_line_reports_an_allocation_failure_in_one_line(tmp_path, capsys):
    path = tmp_path / "events.csv"
    path.write_text(ROWS)
    # a vector width no machine can hold: NumPy says how much it was asked for
    status = main(["fit", str(path), "--user", "user", "--item", "item", "--sample", "0",
                   "--vector-size", str(2**40), "-o", str(tmp_path / "m.npz")])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(err) == 1
    assert err[0].startswith("item2vec fit: error: out of memory: Unable to allocate")


def test_a_byte_that_is_not_utf8_far_into_the_file_names_the_problem(tmp_path, reader):
    # past the first block the header line decodes: each reader meets the byte itself
    path = tmp_path / "events.csv"
    rows = "".join(f"u{i},item{i},{i}\n" for i in range(5_000))
    path.write_bytes(("user,item,time\n" + rows).encode() + "u9,é,9\n".encode("latin-1"))
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))} is not UTF-8 text \(.*\): "
                                         r"convert it to UTF-8$"):  # fmt: skip
        _read(path)
