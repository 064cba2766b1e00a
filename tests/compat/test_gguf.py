"""GGUF summaries through the official client: the `gguf` block of model info and listings,
read from headers of files uploaded through LFS and Xet, and hostile headers leaving it out."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from huggingface_hub import CommitOperationAdd, HfApi

import hubstead
from tests.helpers.accounts import HubUser
from tests.helpers.gguf import ARRAY, HOSTILE, STRING, UINT32, gguf_file, llama

TEMPLATE = "{% for m in messages %}{{ m.content }}{% endfor %}"
BLOCK = {
    "total": 11,
    "architecture": "llama",
    "context_length": 4096,
    "chat_template": TEMPLATE,
    "bos_token": "<s>",
    "eos_token": "</s>",
}


def commit(api: HfApi, repo: str, files: dict[str, bytes], repo_type: str = "model") -> None:
    operations = [CommitOperationAdd(path, data) for path, data in files.items()]
    api.create_commit(repo, operations, commit_message="weights", repo_type=repo_type)


def test_model_info_and_listings_show_the_block_of_an_lfs_upload(user: HubUser, repo: str) -> None:
    commit(user.api, repo, {"tiny.Q4_K_M.gguf": llama(), "README.md": b"# tiny\n"})

    (entry_,) = user.api.get_paths_info(repo, ["tiny.Q4_K_M.gguf"])
    info = user.api.model_info(repo)
    expanded = user.api.model_info(repo, expand=["gguf"])
    (listed,) = user.api.list_models(author=user.name, search=repo, expand=["gguf"])
    (full,) = user.api.list_models(author=user.name, search=repo, full=True)

    assert entry_.lfs is not None  # type: ignore[union-attr]
    assert info.gguf == BLOCK
    assert expanded.gguf == BLOCK
    assert expanded.siblings is None and expanded.safetensors is None
    assert listed.gguf == BLOCK
    assert full.gguf is None  # only when asked for, as on the Hub
    assert user.api.model_info(repo, expand=["sha"]).gguf is None


@pytest.mark.usefixtures("xet")
def test_a_file_uploaded_through_xet_is_summarized(user: HubUser, repo: str) -> None:
    commit(user.api, repo, {"models/tiny.gguf": llama(version=2)})

    (found,) = user.api.get_paths_info(repo, ["models/tiny.gguf"])

    assert found.xet_hash is not None  # type: ignore[union-attr]
    assert user.api.model_info(repo, expand=["gguf"]).gguf == BLOCK


def test_the_first_file_by_path_is_summarized_and_each_revision_has_its_own(
    user: HubUser, repo: str
) -> None:
    small = gguf_file({"general.architecture": (STRING, "phi3")}, {"w": [5]})
    commit(user.api, repo, {"b.gguf": llama(), "a.gguf": small})
    first = user.api.model_info(repo).sha
    commit(user.api, repo, {"a.gguf": llama()})

    assert user.api.model_info(repo).gguf == BLOCK
    assert user.api.model_info(repo, revision=first).gguf == {"total": 5, "architecture": "phi3"}


def test_a_header_spanning_many_ranges_is_read_to_its_end(user: HubUser, repo: str) -> None:
    tokens = [f"token-{i}" for i in range(250_000)]  # about 5 MB of vocabulary
    commit(user.api, repo, {"big.gguf": llama(tokens=["<unk>", "<s>", "</s>", *tokens])})

    assert user.api.model_info(repo, expand=["gguf"]).gguf == BLOCK


def test_token_ids_outside_the_vocabulary_leave_the_tokens_out(user: HubUser, repo: str) -> None:
    data = gguf_file(
        {
            "tokenizer.ggml.tokens": (ARRAY, (STRING, ["a"])),
            "tokenizer.ggml.bos_token_id": (UINT32, 7),
            "general.architecture": (STRING, "gpt2"),
            "gpt2.context_length": (UINT32, 1024),
        },
        {"w": [2, 2]},
    )
    commit(user.api, repo, {"m.gguf": data})

    expected = {"total": 4, "architecture": "gpt2", "context_length": 1024}
    assert user.api.model_info(repo, expand=["gguf"]).gguf == expected


@pytest.mark.parametrize("case", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_header_leaves_the_block_out(
    user: HubUser, repo_factory: Callable[..., str], case: tuple[bytes, str]
) -> None:
    data, _ = case
    repo = repo_factory()
    commit(user.api, repo, {"bad.gguf": data, "z.gguf": llama()})

    info = user.api.model_info(repo, expand=["gguf", "sha"])
    (listed,) = user.api.list_models(author=user.name, search=repo, expand=["gguf"])

    assert info.sha is not None
    assert info.gguf is None
    assert listed.gguf is None


def test_datasets_have_no_block_and_our_client_reads_the_models(
    user: HubUser, repo_factory: Callable[..., str], repo: str
) -> None:
    dataset = repo_factory("dataset")
    commit(user.api, dataset, {"m.gguf": llama()}, repo_type="dataset")
    commit(user.api, repo, {"m.gguf": llama()})

    assert "gguf" not in user.api.dataset_info(dataset).__dict__
    with hubstead.HfApi(endpoint=user.api.endpoint, token=user.token, trust_env=False) as ours:
        assert ours.model_info(repo).gguf == BLOCK
