"""Dataset previews: the first rows of a CSV, TSV, JSON Lines, JSON or Parquet file, as a table.

A preview reads a bounded number of bytes through a range reader (`Reader`), never the whole
file: the first `TEXT_BYTES` of a text table (a JSON array must fit in them whole), and for
Parquet the footer and then the first pages of the first row group's columns, through a
buffered stream (at most `PARQUET_BYTES` in all). Cells are cut to `MAX_CELL` characters, rows
to `ROWS` and columns to `COLUMNS`. A file that is not what its name says, or that would need
more than those bounds, gets a preview with `error` set ("Preview unavailable: <reason>"),
never an exception. Parquet needs pyarrow (the `parquet` extra); without it the preview says so.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import logging
import posixpath
import struct
from collections.abc import Callable, Iterable, Sequence
from typing import Any

logger = logging.getLogger("hubstead.server")

ROWS = 20
COLUMNS = 50
MAX_CELL = 200
TEXT_BYTES = 1_000_000
PARQUET_FOOTER_BYTES = 8_000_000
PARQUET_BYTES = 16_000_000
_PARQUET_BUFFER = 64 * 1024
_PARQUET_MAGIC = b"PAR1"
_FOOTER = struct.Struct("<I4s")
_KINDS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".json": "json", ".parquet": "parquet"}

Reader = Callable[[int, int], bytes]
"""Bytes `[offset, offset + length)` of the file (fewer at its end); may raise `Unavailable`."""


class Unavailable(Exception):
    """Why a file cannot be previewed."""


@dataclasses.dataclass(frozen=True)
class TablePreview:
    """The first rows and columns of a table, or why there are none (`error`).

    `more_rows` and `more_columns` say the file has more than shown; `total_rows` is known for
    Parquet only.
    """

    columns: list[str]
    rows: list[list[str]]
    more_rows: bool = False
    more_columns: bool = False
    total_rows: int | None = None
    error: str | None = None


def kind_of(path: str) -> str | None:
    """The table format a file name says (`csv`, `tsv`, `jsonl`, `json`, `parquet`), or None."""
    return _KINDS.get(posixpath.splitext(path.lower())[1])


def preview(path: str, size: int, read: Reader) -> TablePreview | None:
    """The preview of a file whose name says it is a table; None for other files."""
    kind = kind_of(path)
    if kind is None:
        return None
    try:
        if kind == "parquet":
            return _parquet(size, read)
        if kind == "json":
            if size > TEXT_BYTES:
                raise Unavailable(f"the file is larger than {TEXT_BYTES:,} bytes")
            return _records(_json_array(read(0, size)))
        text = _text_start(size, read)
        if kind == "jsonl":
            return _records(_json_lines(text), partial=size > TEXT_BYTES)
        return _delimited(text, "\t" if kind == "tsv" else ",", partial=size > TEXT_BYTES)
    except Unavailable as exc:
        return TablePreview([], [], error=f"Preview unavailable: {exc}")


def cell(value: object) -> str:
    """A value as the text of a cell, at most `MAX_CELL` characters."""
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = value
    elif isinstance(value, bytes):
        text = f"<{len(value)} bytes>"
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError, RecursionError):
            text = str(value)
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def _text_start(size: int, read: Reader) -> str:
    """The first `TEXT_BYTES` of a text file, cut after its last whole line when it goes on."""
    data = read(0, min(size, TEXT_BYTES))
    if size > TEXT_BYTES:
        end = data.rfind(b"\n")
        if end < 0:
            raise Unavailable(f"the first line is longer than {TEXT_BYTES:,} bytes")
        data = data[: end + 1]
    if b"\x00" in data:
        raise Unavailable("the file is binary, not text")
    return data.decode("utf-8-sig", errors="replace")


def _delimited(text: str, delimiter: str, *, partial: bool) -> TablePreview:
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            raise Unavailable("the file is empty")
        rows: list[list[str]] = []
        for row in reader:
            if len(rows) == ROWS:
                return _table(header, rows, more_rows=True)
            if row:
                rows.append(row)
    except csv.Error as exc:
        raise Unavailable(f"not {'TSV' if delimiter == chr(9) else 'CSV'}: {exc}") from None
    return _table(header, rows, more_rows=partial)


def _json_lines(text: str) -> Iterable[object]:
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                yield json.loads(line)
            except (ValueError, RecursionError):
                raise Unavailable(f"line {number} is not JSON") from None


def _json_array(data: bytes) -> list[object]:
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        raise Unavailable("the file is not JSON") from None
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise Unavailable("the file is not an array of objects")
    return value


def _records(records: Iterable[object], *, partial: bool = False) -> TablePreview:
    """A table of JSON records: columns in the order keys first appear."""
    columns: dict[str, None] = {}
    rows: list[dict[str, object]] = []
    for record in records:
        if len(rows) == ROWS:
            return _table(list(columns), [_row(r, columns) for r in rows], more_rows=True)
        row = record if isinstance(record, dict) else {"value": record}
        columns.update(dict.fromkeys(str(key) for key in row))
        rows.append({str(key): value for key, value in row.items()})
    if not rows:
        raise Unavailable("the file holds no records")
    return _table(list(columns), [_row(r, columns) for r in rows], more_rows=partial)


def _row(record: dict[str, object], columns: Iterable[str]) -> list[object]:
    return [record.get(column) for column in columns]


def _table(
    header: Sequence[object],
    rows: Sequence[Sequence[object]],
    *,
    more_rows: bool,
    total_rows: int | None = None,
) -> TablePreview:
    return TablePreview(
        [cell(name) for name in header[:COLUMNS]],
        [[cell(value) for value in row[:COLUMNS]] for row in rows[:ROWS]],
        more_rows=more_rows,
        more_columns=len(header) > COLUMNS or any(len(row) > COLUMNS for row in rows),
        total_rows=total_rows,
    )


class _RangeFile(io.RawIOBase):
    """A read-only, seekable file over a `Reader`, refusing to read more than `budget` bytes."""

    def __init__(self, size: int, read: Reader, budget: int) -> None:
        self._size = size
        self._read = read
        self._budget = budget
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        length = min(len(view), max(0, self._size - self._position))
        if length == 0:
            return 0
        if length > self._budget:
            raise Unavailable(f"a preview would read more than {PARQUET_BYTES:,} bytes")
        data = self._read(self._position, length)
        self._budget -= len(data)
        view[: len(data)] = data
        self._position += len(data)
        return len(data)


def _parquet(size: int, read: Reader) -> TablePreview:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise Unavailable("this hub cannot read Parquet (install hubstead[parquet])") from None
    if size < 12 or read(0, 4) != _PARQUET_MAGIC:
        raise Unavailable("not a Parquet file")
    footer_length, magic = _FOOTER.unpack(read(size - _FOOTER.size, _FOOTER.size))
    if magic != _PARQUET_MAGIC or footer_length > size - 12:
        raise Unavailable("not a Parquet file (no footer)")
    if footer_length > PARQUET_FOOTER_BYTES:
        raise Unavailable(f"its footer is larger than {PARQUET_FOOTER_BYTES:,} bytes")
    source = _RangeFile(size, read, PARQUET_BYTES)
    try:
        file = pq.ParquetFile(source, buffer_size=_PARQUET_BUFFER, pre_buffer=False)
        names = list(file.schema_arrow.names)
        total = file.metadata.num_rows
        if file.metadata.num_row_groups == 0 or total == 0:
            return _table(names, [], more_rows=False, total_rows=0)
        columns = names[:COLUMNS]
        batches = file.iter_batches(batch_size=ROWS, row_groups=[0], columns=columns)
        batch = next(batches, None)
        rows = [] if batch is None else [list(r.values()) for r in batch.to_pylist()[:ROWS]]
    except Unavailable:
        raise
    except (pa.ArrowException, OSError, ValueError, TypeError, IndexError, KeyError) as exc:
        raise Unavailable(f"not a readable Parquet file ({_first_line(exc)})") from None
    preview = _table(names, rows, more_rows=total > len(rows), total_rows=total)
    return dataclasses.replace(preview, more_columns=len(names) > COLUMNS)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]
