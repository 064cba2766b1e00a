"""datasets and transformers push to the hub through Xet and load back what they pushed.

Each library runs in a process of its own, configured only by the environment a user would
set (HF_ENDPOINT, HF_TOKEN, a fresh HF_HOME; Xet on), as their `push_to_hub` and loaders read
the endpoint when they are imported. The hub's access log shows the CAS at work both ways.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers.accounts import HubUser
from tests.helpers.clients import run_python
from tests.helpers.live_server import LiveServer
from tests.helpers.profiles import hub_serves_downloads
from tests.helpers.xet import (
    AccessLog,
    assert_downloaded_through_xet,
    assert_uploaded_through_xet,
)

PUSH_AND_LOAD_DATASET = """
    import sys
    from datasets import Dataset, load_dataset

    repo = sys.argv[1]
    rows = {"text": [f"row {n}" for n in range(500)], "label": [n % 3 for n in range(500)]}
    Dataset.from_dict(rows).push_to_hub(repo)
    loaded = load_dataset(repo, split="train")
    assert loaded.to_dict() == rows, "the dataset came back different"
"""

PUSH_AND_LOAD_MODEL = """
    import sys
    import torch
    from transformers import BertConfig, BertModel

    repo = sys.argv[1]
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=32,
    )
    model = BertModel(config)
    model.push_to_hub(repo)
    loaded = BertModel.from_pretrained(repo)
    pushed, back = model.state_dict(), loaded.state_dict()
    assert pushed.keys() == back.keys(), "the model came back with other weights"
    assert all(torch.equal(pushed[name], back[name]) for name in pushed), "weights differ"
"""


@hub_serves_downloads
def test_a_dataset_pushed_with_datasets_goes_through_xet_and_loads_back(
    live_server: LiveServer, user: HubUser, tmp_path: Path
) -> None:
    repo = f"{user.name}/rows"

    with AccessLog() as cas:
        run_python(live_server, user, tmp_path, PUSH_AND_LOAD_DATASET, repo)

    assert_uploaded_through_xet(cas)
    assert_downloaded_through_xet(cas)
    files = list(user.api.list_repo_tree(repo, repo_type="dataset", recursive=True))
    parquet = [entry for entry in files if entry.path.endswith(".parquet")]
    assert parquet and all(getattr(entry, "xet_hash", None) for entry in parquet)


@hub_serves_downloads
def test_a_model_pushed_with_transformers_goes_through_xet_and_loads_back(
    live_server: LiveServer, user: HubUser, tmp_path: Path
) -> None:
    repo = f"{user.name}/tiny-bert"

    with AccessLog() as cas:
        run_python(live_server, user, tmp_path, PUSH_AND_LOAD_MODEL, repo)

    assert_uploaded_through_xet(cas)
    assert_downloaded_through_xet(cas)
    (weights,) = user.api.get_paths_info(repo, ["model.safetensors"])
    assert getattr(weights, "xet_hash", None)
