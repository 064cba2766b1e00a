"""`GET /api/models/{repo}/safetensors-metadata/{path}` over raw HTTP: its shape and refusals."""

from __future__ import annotations

import json

import httpx
from huggingface_hub import CommitOperationAdd

from tests.helpers.accounts import HubUser


def test_the_answer_is_the_index_without_its_weight_map_and_each_shards_header(
    http: httpx.Client, user: HubUser, repo: str
) -> None:
    header = {"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}
    encoded = json.dumps(header).encode()
    shard = len(encoded).to_bytes(8, "little") + encoded + bytes(4)
    index = {"metadata": {"total_size": 4}, "weight_map": {"w": "s.safetensors"}}
    operations = [
        CommitOperationAdd("model.safetensors.index.json", json.dumps(index).encode()),
        CommitOperationAdd("s.safetensors", shard),
    ]
    user.api.create_commit(repo, operations, commit_message="weights")

    response = http.get(f"/api/models/{repo}/safetensors-metadata/model.safetensors.index.json")

    assert response.status_code == 200
    assert response.json() == {
        "index": {"metadata": {"total_size": 4}},
        "headers": {"s.safetensors": header},
    }


def test_other_repo_types_and_paths_out_of_the_repo_are_refused(
    http: httpx.Client, repo: str
) -> None:
    dataset = http.get(f"/api/datasets/{repo}/safetensors-metadata/model.safetensors.index.json")
    climbing = http.get(f"/api/models/{repo}/safetensors-metadata/a/%2E%2E/%2E%2E/x.json")

    assert dataset.status_code == 404
    assert dataset.headers["X-Error-Code"] == "EndpointNotFound"
    assert climbing.status_code == 400
    assert climbing.headers.get("X-Error-Code") is None
