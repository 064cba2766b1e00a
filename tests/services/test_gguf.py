"""GGUF headers read through ranges: what is kept, and every bound a hostile file meets."""

from __future__ import annotations

import pytest

from hubstead.server.services.gguf import GgufError, GgufSummary, Read, read_summary
from tests.helpers.gguf import HOSTILE, STRING, UINT64, gguf_file, llama


def ranges(data: bytes, log: list[tuple[int, int]] | None = None) -> Read:
    """Reads of `data`, recorded in `log`."""

    def read(offset: int, length: int) -> bytes:
        if log is not None:
            log.append((offset, length))
        return data[offset : offset + length]

    return read


def test_the_summary_keeps_what_the_hub_shows() -> None:
    for version in (2, 3):
        assert read_summary(ranges(llama(version=version))) == GgufSummary(
            11,
            "llama",
            4096,
            "{% for m in messages %}{{ m.content }}{% endfor %}",
            "<s>",
            "</s>",
        )


def test_a_file_without_metadata_has_only_its_total() -> None:
    data = gguf_file({"llama.context_length": (UINT64, 8)}, {"a": [3, 3], "b": [0, 5]})

    assert read_summary(ranges(data)) == GgufSummary(9)


def test_tensor_data_is_never_read() -> None:
    data = gguf_file({"general.architecture": (STRING, "x")}, {"w": [1024, 1024]})
    log: list[tuple[int, int]] = []

    read_summary(ranges(data, log))

    assert len(data) > 4 * 1024 * 1024
    assert all(offset < 200 for offset, _ in log)


@pytest.mark.parametrize("case", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_header_fails_clearly(case: tuple[bytes, str]) -> None:
    data, message = case

    with pytest.raises(GgufError, match=message.replace("*", r"\*").replace("(", r"\(")):
        read_summary(ranges(data))
