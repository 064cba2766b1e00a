"""Safetensors metadata through the official client: the `safetensors` block of model info and
listings, `get_sharded_safetensors_metadata`, and the client-side parsing the hub's ranges serve."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from typing import Any

import pytest
from huggingface_hub import CommitOperationAdd, HfApi
from huggingface_hub.errors import (
    BadRequestError,
    EntryNotFoundError,
    RepositoryNotFoundError,
)

from tests.helpers.accounts import HubUser


def safetensors(tensors: dict[str, tuple[str, list[int]]], padding: int = 0) -> bytes:
    """A safetensors file whose tensors (dtype, shape) hold zeros; `padding` pads the header."""
    sizes = {"F32": 4, "F16": 2, "BF16": 2, "I8": 1, "U8": 1, "I64": 8}
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, (dtype, shape) in tensors.items():
        count = 1
        for n in shape:
            count *= n
        header[name] = {
            "dtype": dtype,
            "shape": shape,
            "data_offsets": [offset, offset + count * sizes[dtype]],
        }
        offset += count * sizes[dtype]
    encoded = json.dumps(header).encode() + b" " * padding
    return struct.pack("<Q", len(encoded)) + encoded + bytes(offset)


def commit(api: HfApi, repo: str, files: dict[str, bytes]) -> None:
    operations = [CommitOperationAdd(path, data) for path, data in files.items()]
    api.create_commit(repo, operations, commit_message="weights")


SINGLE = safetensors({"a": ("F32", [2, 3]), "b": ("BF16", [3, 4]), "scalar": ("F32", [])})


def sharded(prefix: str = "") -> dict[str, bytes]:
    first = safetensors({"embed": ("BF16", [10, 4])})
    second = safetensors({"head": ("BF16", [4, 2]), "bias": ("F32", [2])})
    index = {
        "metadata": {"total_size": 100},
        "weight_map": {
            "embed": "model-00001-of-00002.safetensors",
            "head": "model-00002-of-00002.safetensors",
            "bias": "model-00002-of-00002.safetensors",
        },
    }
    return {
        f"{prefix}model.safetensors.index.json": json.dumps(index).encode(),
        f"{prefix}model-00001-of-00002.safetensors": first,
        f"{prefix}model-00002-of-00002.safetensors": second,
    }


def test_model_info_and_listings_count_the_parameters_of_a_single_file(
    user: HubUser, repo: str
) -> None:
    commit(user.api, repo, {"model.safetensors": SINGLE})

    info = user.api.model_info(repo)
    expanded = user.api.model_info(repo, expand=["safetensors"])
    (listed,) = user.api.list_models(author=user.name, search=repo, expand=["safetensors"])
    (full,) = user.api.list_models(author=user.name, search=repo, full=True)

    assert info.safetensors is not None
    assert (info.safetensors.parameters, info.safetensors.total) == ({"BF16": 12, "F32": 7}, 19)
    assert expanded.safetensors == info.safetensors
    assert expanded.siblings is None
    assert listed.safetensors == info.safetensors
    assert full.safetensors is None  # only when asked for, as on the Hub
    assert user.api.model_info(repo, expand=["sha"]).safetensors is None


def test_a_sharded_model_is_summed_over_its_shards_and_served_in_one_request(
    user: HubUser, repo: str
) -> None:
    commit(user.api, repo, sharded())

    info = user.api.model_info(repo)
    one_request = user.api.get_sharded_safetensors_metadata(repo)
    parsed = user.api.get_safetensors_metadata(repo)

    assert info.safetensors is not None
    assert (info.safetensors.parameters, info.safetensors.total) == ({"BF16": 48, "F32": 2}, 50)
    assert one_request.sharded is True
    assert one_request.metadata == {"total_size": 100}
    assert one_request.weight_map == parsed.weight_map
    assert one_request.files_metadata == parsed.files_metadata
    assert one_request.parameter_count == {"BF16": 48, "F32": 2}


def test_sharded_metadata_of_an_index_in_a_folder_reads_shards_beside_it(
    user: HubUser, repo: str
) -> None:
    commit(user.api, repo, sharded("unet/"))

    found = user.api.get_sharded_safetensors_metadata(
        repo, filename="unet/model.safetensors.index.json"
    )

    assert sorted(found.files_metadata) == [
        "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors",
    ]
    assert user.api.model_info(repo).safetensors is None  # only the root is summarized


def test_a_header_past_the_first_range_is_parsed_by_the_client(user: HubUser, repo: str) -> None:
    big = safetensors({"w": ("F16", [8, 8])}, padding=150_000)
    commit(user.api, repo, {"weights/big.safetensors": big, "model.safetensors": big})

    parsed = user.api.parse_safetensors_file_metadata(repo, "weights/big.safetensors")

    assert parsed.parameter_count == {"F16": 64}
    assert user.api.model_info(repo).safetensors.total == 64  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "broken",
    [
        b"\x01\x02",
        struct.pack("<Q", 10**12) + b"{}",
        struct.pack("<Q", 100) + b"{}",
        struct.pack("<Q", 7) + b"not json",
        struct.pack("<Q", 2) + b"[]",
        struct.pack("<Q", 24) + b'{"t": {"dtype": "F32"}} ',
        struct.pack("<Q", 46) + b'{"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}',
    ],
)
def test_a_malformed_header_leaves_the_block_out_and_the_api_says_why(
    user: HubUser, repo_factory: Callable[..., str], broken: bytes
) -> None:
    single, shards = repo_factory(), repo_factory()
    commit(user.api, single, {"model.safetensors": broken})
    files = sharded()
    files["model-00002-of-00002.safetensors"] = broken
    commit(user.api, shards, files)

    assert user.api.model_info(single).safetensors is None
    assert user.api.model_info(shards).safetensors is None
    with pytest.raises(BadRequestError) as caught:
        user.api.get_sharded_safetensors_metadata(shards)
    assert "model-00002-of-00002.safetensors" in str(caught.value)


def test_a_missing_index_or_shard_is_entry_not_found(user: HubUser, repo: str) -> None:
    with pytest.raises(EntryNotFoundError):
        user.api.get_sharded_safetensors_metadata(repo)
    files = sharded()
    del files["model-00001-of-00002.safetensors"]
    commit(user.api, repo, files)

    with pytest.raises(EntryNotFoundError) as caught:
        user.api.get_sharded_safetensors_metadata(repo)

    assert "model-00001-of-00002.safetensors" in str(caught.value)
    assert user.api.model_info(repo).safetensors is None


def test_a_private_model_is_not_found_by_outsiders(
    user: HubUser, other_user: HubUser, repo_factory: Callable[..., str]
) -> None:
    secret = repo_factory(private=True)
    commit(user.api, secret, sharded())

    with pytest.raises(RepositoryNotFoundError):
        other_user.api.get_sharded_safetensors_metadata(secret)
    assert user.api.get_sharded_safetensors_metadata(secret).parameter_count["F32"] == 2


def test_a_revision_has_its_own_summary(user: HubUser, repo: str) -> None:
    commit(user.api, repo, {"model.safetensors": SINGLE})
    first = user.api.model_info(repo).sha
    commit(user.api, repo, {"model.safetensors": safetensors({"x": ("I8", [5])})})

    assert user.api.model_info(repo).safetensors.parameters == {"I8": 5}  # type: ignore[union-attr]
    old = user.api.model_info(repo, revision=first).safetensors
    assert old is not None and old.total == 19


@pytest.mark.usefixtures("xet")
def test_weights_uploaded_through_xet_are_summarized(user: HubUser, repo: str) -> None:
    commit(user.api, repo, {"model.safetensors": safetensors({"w": ("F32", [300, 300])})})

    (entry,) = user.api.get_paths_info(repo, ["model.safetensors"])
    assert entry.xet_hash is not None  # type: ignore[union-attr]
    assert user.api.model_info(repo).safetensors.total == 90_000  # type: ignore[union-attr]
