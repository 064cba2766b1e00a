"""Dataset previews (`services/previews.py`): the first rows of a table, read by bounded ranges."""

from __future__ import annotations

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hubstead.server.services import previews
from hubstead.server.services.previews import MAX_CELL, ROWS, TEXT_BYTES, TablePreview


class Ranges:
    """A reader over bytes that records every range asked for."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.asked: list[tuple[int, int]] = []

    def __call__(self, offset: int, length: int) -> bytes:
        self.asked.append((offset, length))
        return self.data[offset : offset + length]

    @property
    def read_bytes(self) -> int:
        return sum(length for _, length in self.asked)


def show(path: str, data: bytes) -> tuple[TablePreview, Ranges]:
    reader = Ranges(data)
    found = previews.preview(path, len(data), reader)
    assert found is not None
    return found, reader


def parquet(table: pa.Table, **options: object) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, **options)
    return sink.getvalue()


def test_only_table_files_get_a_preview() -> None:
    assert previews.preview("model.bin", 3, Ranges(b"abc")) is None
    assert previews.kind_of("data/Train.CSV") == "csv"
    assert previews.kind_of("a.parquet") == "parquet"


def test_csv_first_rows_with_capped_cells() -> None:
    lines = ["id,text"] + [f"{n},row {n}" for n in range(30)] + [f'99,"{"x" * 1000}"']
    found, _ = show("train.csv", "\n".join(lines).encode())

    assert found.error is None
    assert found.columns == ["id", "text"]
    assert found.rows[:2] == [["0", "row 0"], ["1", "row 1"]]
    assert len(found.rows) == ROWS and found.more_rows

    long, _ = show("x.csv", f'a\n"{"y" * 1000}"\n'.encode())
    assert len(long.rows[0][0]) == MAX_CELL and long.rows[0][0].endswith("…")


def test_tsv_and_a_short_file_has_no_more_rows() -> None:
    found, _ = show("t.tsv", b"a\tb\n1\t2\n")

    assert (found.columns, found.rows, found.more_rows) == (["a", "b"], [["1", "2"]], False)


def test_a_large_text_file_is_read_only_up_to_the_bound() -> None:
    data = b"n\n" + b"1\n" * (3 * TEXT_BYTES)
    found, reader = show("big.csv", data)

    assert found.error is None and found.more_rows
    assert reader.read_bytes <= TEXT_BYTES

    one_line, _ = show("line.jsonl", b"[" * (TEXT_BYTES + 10))
    assert one_line.error is not None and "first line is longer" in one_line.error


def test_json_lines_and_arrays_of_objects() -> None:
    jsonl = b'{"q": "why", "n": 1}\n\n{"q": "how", "extra": [1, 2]}\n'
    found, _ = show("qa.jsonl", jsonl)
    assert found.columns == ["q", "n", "extra"]
    assert found.rows == [["why", "1", ""], ["how", "", "[1, 2]"]]

    array, _ = show("d.json", json.dumps([{"a": i} for i in range(25)]).encode())
    assert array.columns == ["a"] and len(array.rows) == ROWS and array.more_rows


@pytest.mark.parametrize(
    ("path", "data", "reason"),
    [
        ("d.json", b'{"not": "an array"}', "not an array of objects"),
        ("d.json", b"[1, 2]", "not an array of objects"),
        ("d.json", b"[" * 100_000, "not JSON"),
        ("d.jsonl", b'{"a": 1}\nnope\n', "line 2 is not JSON"),
        ("d.csv", b"", "empty"),
        ("d.csv", b"a,b\n\x00\x01\n", "binary"),
        ("d.parquet", b"PAR1 not really", "not a Parquet file"),
        ("d.parquet", b"PAR1" + b"\0" * 40 + b"\xff\xff\xff\x7fPAR1", "no footer"),
    ],
)
def test_hostile_and_corrupt_files_say_why_there_is_no_preview(
    path: str, data: bytes, reason: str
) -> None:
    found, _ = show(path, data)

    assert found.error is not None and found.error.startswith("Preview unavailable: ")
    assert reason in found.error


def test_parquet_first_rows_from_the_first_row_group() -> None:
    rows = 20_000
    table = pa.table({"id": list(range(rows)), "text": [f"line {n} " * 10 for n in range(rows)]})
    data = parquet(table, row_group_size=1000, compression="none")
    found, reader = show("train.parquet", data)

    assert found.error is None
    assert found.columns == ["id", "text"]
    assert found.rows[0] == ["0", "line 0 " * 10] and len(found.rows) == ROWS
    assert found.total_rows == rows and found.more_rows
    assert len(data) > 1_000_000 and reader.read_bytes < len(data) // 10


def test_parquet_with_a_damaged_body_or_footer() -> None:
    data = bytearray(parquet(pa.table({"a": list(range(100))})))
    body = bytes(data[:4]) + b"\x13" * (len(data) - 12) + bytes(data[-8:])
    cut = bytes(data[:4]) + bytes(data[len(data) // 2 :])

    for damaged in (body, cut):
        found, _ = show("broken.parquet", damaged)
        assert found.error is not None and found.error.startswith("Preview unavailable: ")


def test_parquet_reads_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(previews, "PARQUET_BYTES", 2000)
    table = pa.table({"blob": ["z" * 50_000 for _ in range(3)]})
    found, reader = show("wide.parquet", parquet(table, compression="none"))

    assert found.error is not None and "more than" in found.error
    assert reader.read_bytes <= 2000 + 8 + 4
