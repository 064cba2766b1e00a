"""Safetensors headers: what counts as one, and how parameters are counted."""

from __future__ import annotations

import pytest

from hubstead.server.services import weights
from hubstead.server.services.weights import SafetensorsSummary, parse_header, summarize


def test_parameters_are_counted_per_dtype_with_scalars_as_one() -> None:
    first = parse_header(
        b'{"__metadata__": {"format": "pt"},'
        b' "a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},'
        b' "s": {"dtype": "F32", "shape": [], "data_offsets": [24, 28]}}'
    )
    second = parse_header(b'{"e": {"dtype": "BF16", "shape": [4, 0], "data_offsets": [0, 0]}}')

    assert summarize([first, second]) == SafetensorsSummary({"BF16": 0, "F32": 7}, 7)
    assert summarize([]) == SafetensorsSummary({}, 0)


@pytest.mark.parametrize(
    "header",
    [
        b"not json",
        b"[1, 2]",
        b'{"t": 3}',
        b'{"t": {"dtype": 3, "shape": [], "data_offsets": [0, 0]}}',
        b'{"t": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}',
        b'{"t": {"dtype": "F32", "shape": [true], "data_offsets": [0, 4]}}',
        b'{"t": {"dtype": "F32", "shape": [1], "data_offsets": [0]}}',
        b'{"t": {"dtype": "F32", "shape": [1]}}',
        b"[" * 100_000,
    ],
)
def test_anything_else_is_not_a_header(header: bytes) -> None:
    with pytest.raises(weights._Invalid):
        parse_header(header)
