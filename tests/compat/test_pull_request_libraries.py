"""The ecosystem's flows that open pull requests without asking, against the hub.

transformers' `push_to_hub(create_pr=True)`, `ModelCard.push_to_hub(create_pr=True)`,
`metadata_update(..., create_pr=True)` and `datasets.delete_from_hub` (always a pull request)
each run in a process of their own, configured only by the environment a user would set, as
their loaders and the card validation read `HF_ENDPOINT` when they are imported. What they
opened is then checked through the official client: the pull request's ref holds the change,
and `main` does not.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.helpers.accounts import HubUser
from tests.helpers.clients import run_python
from tests.helpers.live_server import LiveServer

PUSH_MODEL_AS_PR = """
    import sys
    import torch
    from transformers import BertConfig, BertModel

    repo = sys.argv[1]
    # Seeds no other test uses: weights the hub already holds would be deduplicated.
    torch.manual_seed(10)
    config = BertConfig(
        vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=32,
    )
    model = BertModel(config)
    model.push_to_hub(repo)
    torch.manual_seed(11)
    BertModel(config).push_to_hub(repo, create_pr=True, commit_message="Retrained weights")
    proposed = BertModel.from_pretrained(repo, revision="refs/pr/1")
    current = BertModel.from_pretrained(repo)
    pushed = model.state_dict()
    assert all(torch.equal(pushed[n], current.state_dict()[n]) for n in pushed), "main changed"
    assert not all(
        torch.equal(pushed[n], proposed.state_dict()[n]) for n in pushed
    ), "the pull request holds the old weights"
"""

CARD_AND_METADATA_AS_PRS = """
    import sys
    from huggingface_hub import ModelCard, metadata_update

    repo = sys.argv[1]
    card = ModelCard("---\\nlicense: mit\\n---\\n# A model\\n")
    info = card.push_to_hub(repo, create_pr=True, commit_message="Add a model card")
    assert info.pr_url.endswith("/discussions/1"), info.pr_url
    info = metadata_update(repo, {"tags": ["reviewed"]}, create_pr=True)
    assert info.pr_url.endswith("/discussions/2"), info.pr_url
"""

DELETE_A_CONFIG = """
    import sys
    from datasets import Dataset
    from datasets.hub import delete_from_hub

    repo = sys.argv[1]
    Dataset.from_dict({"a": [1, 2]}).push_to_hub(repo, config_name="first")
    Dataset.from_dict({"b": ["x"]}).push_to_hub(repo, config_name="second")
    info = delete_from_hub(repo, "second")
    assert info.pr_revision == "refs/pr/1", info.pr_url
"""


def card_metadata(text: str) -> dict[str, object]:
    _, front, _ = text.split("---\n", 2)
    data = yaml.safe_load(front)
    assert isinstance(data, dict)
    return data


def test_transformers_push_to_hub_with_create_pr_opens_a_pull_request(
    live_server: LiveServer, user: HubUser, tmp_path: Path
) -> None:
    repo = f"{user.name}/tiny-bert-pr"

    run_python(live_server, user, tmp_path, PUSH_MODEL_AS_PR, repo)

    [pr] = user.api.get_repo_discussions(repo)
    assert (pr.num, pr.is_pull_request, pr.title) == (1, True, "Retrained weights")
    main = user.api.model_info(repo).sha
    proposed = user.api.model_info(repo, revision="refs/pr/1").sha
    assert proposed != main
    [commit, base, *_] = user.api.list_repo_commits(repo, revision="refs/pr/1")
    assert (commit.commit_id, base.commit_id) == (proposed, main)


def test_model_card_and_metadata_update_with_create_pr_open_pull_requests(
    live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path
) -> None:
    user.api.upload_file(path_or_fileobj=b"# A model\n", path_in_repo="README.md", repo_id=repo)

    run_python(live_server, user, tmp_path, CARD_AND_METADATA_AS_PRS, repo)

    def readme(revision: str) -> str:
        path = user.api.hf_hub_download(repo, "README.md", revision=revision, cache_dir=tmp_path)
        return Path(path).read_text()

    assert readme("main") == "# A model\n"
    assert card_metadata(readme("refs/pr/1")) == {"license": "mit"}
    assert card_metadata(readme("refs/pr/2")) == {"tags": ["reviewed"]}
    titles = {d.num: d.title for d in user.api.get_repo_discussions(repo)}
    assert titles[1] == "Add a model card"


def test_datasets_delete_from_hub_opens_a_pull_request_deleting_the_config(
    live_server: LiveServer, user: HubUser, tmp_path: Path
) -> None:
    repo = f"{user.name}/two-configs"

    run_python(live_server, user, tmp_path, DELETE_A_CONFIG, repo)

    main = user.api.list_repo_files(repo, repo_type="dataset")
    proposed = user.api.list_repo_files(repo, repo_type="dataset", revision="refs/pr/1")
    assert any(path.startswith("second/") for path in main)
    assert not any(path.startswith("second/") for path in proposed)
    assert any(path.startswith("first/") for path in proposed)
    card = user.api.hf_hub_download(
        repo, "README.md", repo_type="dataset", revision="refs/pr/1", cache_dir=tmp_path
    )
    configs = card_metadata(Path(card).read_text())["configs"]
    assert [c["config_name"] for c in configs] == ["first"]  # type: ignore[attr-defined]
    [pr] = user.api.get_repo_discussions(repo, repo_type="dataset")
    assert pr.title == "Delete 'second' config"
