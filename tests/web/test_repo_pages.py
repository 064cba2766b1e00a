"""Repo pages over HTTP: the card, files, history, listings, gating, privacy and escaping."""

from __future__ import annotations

import json
import struct

import pytest
from huggingface_hub import CommitOperationAdd

from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.live_server import LiveServer
from tests.web.conftest import HOSTILE, browser_client, csrf_of, set_password, signed_in_client

CARD = """---
license: apache-2.0
library_name: transformers
pipeline_tag: text-generation
tags:
- web-test-tag
---
# A friendly model

Some **bold** words.
"""
HOSTILE_CARD = """# Hostile

<script>alert(1)</script>
<img src=x onerror=alert(2)>
<svg onload=alert(3)><script>alert(4)</script></svg>
[click](javascript:alert(5))
[data](data:text/html;base64,PHNjcmlwdD5hbGVydCg2KTwvc2NyaXB0Pg==)
"""


def safetensors(tensors: dict[str, tuple[str, list[int]]]) -> bytes:
    """A safetensors file with zeroed tensors of the given dtypes and shapes."""
    header, offset = {}, 0
    for name, (dtype, shape) in tensors.items():
        size = 4 * max(1, _product(shape)) if dtype == "F32" else 2 * max(1, _product(shape))
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    encoded = json.dumps(header).encode()
    return struct.pack("<Q", len(encoded)) + encoded + b"\0" * offset


def _product(shape: list[int]) -> int:
    result = 1
    for dim in shape:
        result *= dim
    return result


@pytest.fixture(scope="module")
def owner(web_hub: LiveServer) -> HubUser:
    return make_user(web_hub, "owner")


@pytest.fixture(scope="module")
def model(web_hub: LiveServer, owner: HubUser) -> str:
    """A model with a card, code, a folder, safetensors weights, a branch, a tag and history."""
    repo_id = owner.api.create_repo(f"{owner.name}/{unique_name('model')}").repo_id
    owner.api.create_commit(
        repo_id,
        [
            CommitOperationAdd("README.md", CARD.encode()),
            CommitOperationAdd("train.py", b"def train(steps):\n    return 'done' * steps\n"),
            CommitOperationAdd("configs/small.json", b'{"layers": 2}\n'),
            CommitOperationAdd(
                "model.safetensors",
                safetensors({"a": ("F32", [10, 10]), "b": ("F16", [3, 4]), "c": ("F32", [5])}),
            ),
        ],
        commit_message="First weights",
    )
    owner.api.create_commit(
        repo_id,
        [CommitOperationAdd("train.py", b"def train(steps):\n    return 'trained' * steps\n")],
        commit_message="Train harder",
    )
    owner.api.create_branch(repo_id, branch="dev/next")
    owner.api.upload_file(
        path_or_fileobj=b"only on dev\n",
        path_in_repo="dev.txt",
        repo_id=repo_id,
        revision="dev/next",
        commit_message="Dev work",
    )
    owner.api.create_tag(repo_id, tag="v1")
    return repo_id


def test_repo_page_shows_card_chips_files_commit_snippets_and_weights(
    web_hub: LiveServer, model: str
) -> None:
    with browser_client(web_hub) as client:
        page = client.get(f"/{model}")

    assert page.status_code == 200
    text = page.text
    assert "<h1>A friendly model</h1>" in text and "<strong>bold</strong>" in text
    assert "license: apache-2.0" not in text  # the front matter is chips, not text
    for param, chip in (
        ("license", "apache-2.0"),
        ("library", "transformers"),
        ("pipeline_tag", "text-generation"),
        ("other", "web-test-tag"),
    ):
        assert f'<a href="/models?{param}={chip}">{chip}</a></li>' in text
    assert f'href="/{model}/blob/main/train.py"' in text
    assert f'href="/{model}/tree/main/configs"' in text
    assert ">LFS</span>" in text or ">Xet</span>" in text
    assert "Train harder" in text
    assert f'snapshot_download("{model}")' in text
    assert f'AutoModel.from_pretrained("{model}")' in text
    assert f"git clone {web_hub.url}/{model}" in text
    assert "117 parameters" in text and "<td>F32</td><td>105</td>" in text
    assert f'href="/{model}/tree/dev%2Fnext"' in text and f'href="/{model}/tree/v1"' in text


def test_repo_pages_of_datasets_and_spaces_live_under_their_prefix(
    web_hub: LiveServer, owner: HubUser
) -> None:
    dataset = owner.api.create_repo(f"{owner.name}/{unique_name('data')}", repo_type="dataset")
    owner.api.upload_file(
        path_or_fileobj=b"a,b\n1,2\n",
        path_in_repo="data.csv",
        repo_id=dataset.repo_id,
        repo_type="dataset",
    )
    with browser_client(web_hub) as client:
        page = client.get(f"/datasets/{dataset.repo_id}")
        as_model = client.get(f"/{dataset.repo_id}")
        blob = client.get(f"/datasets/{dataset.repo_id}/blob/main/data.csv")

    assert page.status_code == 200
    assert "repo_type=&#34;dataset&#34;" in page.text
    assert f'href="/datasets/{dataset.repo_id}/blob/main/data.csv"' in page.text
    assert "AutoModel" not in page.text
    assert as_model.status_code == 404
    assert blob.status_code == 200 and "1,2" in blob.text


def test_folder_and_file_pages(web_hub: LiveServer, owner: HubUser, model: str) -> None:
    first = owner.api.list_repo_commits(model)[-2].commit_id
    with browser_client(web_hub) as client:
        root = client.get(f"/{model}/tree/main")
        folder = client.get(f"/{model}/tree/main/configs")
        code = client.get(f"/{model}/blob/main/train.py")
        weights = client.get(f"/{model}/blob/main/model.safetensors")
        old = client.get(f"/{model}/blob/{first}/train.py")
        dev = client.get(f"/{model}/blob/dev%2Fnext/dev.txt")
        missing = client.get(f"/{model}/blob/main/nope.txt")
        not_a_folder = client.get(f"/{model}/tree/main/train.py")
        no_revision = client.get(f"/{model}/tree/nope")

    assert root.status_code == 200 and 'href="/' in root.text and "configs/" in root.text
    assert folder.status_code == 200 and "small.json" in folder.text
    assert code.status_code == 200
    assert '<tr id="L2">' in code.text and '<span class="tok-k">def</span>' in code.text
    assert "trained" in code.text
    assert f'href="/{model}/resolve/main/train.py"' in code.text
    assert f'href="/{model}/resolve/main/train.py?download=true"' in code.text
    assert weights.status_code == 200 and 'id="sha256"' in weights.text
    assert 'id="code"' not in weights.text
    assert old.status_code == 200 and "trained" not in old.text
    assert dev.status_code == 200 and "only on dev" in dev.text
    assert missing.status_code == 404 and not_a_folder.status_code == 404
    assert no_revision.status_code == 404


def test_large_files_are_never_put_in_the_page(web_hub: LiveServer, owner: HubUser) -> None:
    repo_id = owner.api.create_repo(f"{owner.name}/{unique_name('big')}").repo_id
    owner.api.upload_file(
        path_or_fileobj=b"x" * (600 * 1024) + b"TAIL", path_in_repo="big.txt", repo_id=repo_id
    )
    with browser_client(web_hub) as client:
        page = client.get(f"/{repo_id}/blob/main/big.txt")

    assert page.status_code == 200
    assert "TAIL" not in page.text and len(page.text) < 100_000
    assert f'href="/{repo_id}/resolve/main/big.txt"' in page.text


def test_history_and_commit_pages(web_hub: LiveServer, owner: HubUser, model: str) -> None:
    commits = owner.api.list_repo_commits(model)
    with browser_client(web_hub) as client:
        history = client.get(f"/{model}/commits/main")
        change = client.get(f"/{model}/commit/{commits[0].commit_id}")
        weights = client.get(f"/{model}/commit/{commits[1].commit_id}")
        dev = client.get(f"/{model}/commits/dev%2Fnext")
        root = client.get(f"/{model}/commit/{commits[-1].commit_id}")
        missing = client.get(f"/{model}/commit/{'0' * 40}")

    assert history.status_code == 200
    assert history.text.index("Train harder") < history.text.index("First weights")
    assert change.status_code == 200
    assert '<span class="del">-    return &#39;done&#39; * steps</span>' in change.text
    assert '<span class="add">+    return &#39;trained&#39; * steps</span>' in change.text
    assert weights.status_code == 200 and "model.safetensors" in weights.text
    assert "Dev work" in dev.text
    assert root.status_code == 200  # the first commit: every file it has is added
    assert ".gitattributes" in root.text and '<span class="add">+*.safetensors' in root.text
    assert missing.status_code == 404


def test_lfs_pointer_changes_show_as_size_and_sha_changes(
    web_hub: LiveServer, owner: HubUser
) -> None:
    repo_id = owner.api.create_repo(f"{owner.name}/{unique_name('lfs')}").repo_id
    for content in (b"\1" * 2000, b"\2" * 3000):
        owner.api.upload_file(path_or_fileobj=content, path_in_repo="w.bin", repo_id=repo_id)
    head = owner.api.list_repo_commits(repo_id)[0].commit_id
    with browser_client(web_hub) as client:
        page = client.get(f"/{repo_id}/commit/{head}")

    assert page.status_code == 200
    assert "2.0 kB" in page.text and "3.0 kB" in page.text
    assert "oid sha256:" not in page.text


def test_history_is_paginated(web_hub: LiveServer, owner: HubUser) -> None:
    repo_id = owner.api.create_repo(f"{owner.name}/{unique_name('long')}").repo_id
    for i in range(32):
        owner.api.upload_file(
            path_or_fileobj=str(i).encode(),
            path_in_repo="n.txt",
            repo_id=repo_id,
            commit_message=f"Step {i}",
        )
    with browser_client(web_hub) as client:
        first = client.get(f"/{repo_id}/commits/main")
        second = client.get(f"/{repo_id}/commits/main?p=2")

    assert "Step 31" in first.text and "Step 2<" in first.text and "Step 1<" not in first.text
    assert f'href="/{repo_id}/commits/main?p=2"' in first.text
    assert "Step 1<" in second.text and "initial commit" in second.text
    assert "Step 31" not in second.text


def test_listings_search_sort_and_paginate(web_hub: LiveServer, owner: HubUser) -> None:
    word = unique_name("listed")
    for i in range(3):
        owner.api.create_repo(f"{owner.name}/{word}-{i}", repo_type="space", space_sdk="static")
    with browser_client(web_hub) as client:
        found = client.get("/spaces", params={"search": word, "sort": "name"})
        models = client.get("/models", params={"search": word})
        bad_sort = client.get("/spaces", params={"sort": "nope"})

    assert found.status_code == 200
    assert [found.text.index(f"{word}-{i}<") for i in range(3)] == sorted(
        found.text.index(f"{word}-{i}<") for i in range(3)
    )
    assert f'href="/spaces/{owner.name}/{word}-0"' in found.text
    assert word + "-0<" not in models.text
    assert bad_sort.status_code == 400


def test_private_repos_are_404_pages_for_outsiders(web_hub: LiveServer, owner: HubUser) -> None:
    repo_id = owner.api.create_repo(f"{owner.name}/{unique_name('secret')}", private=True).repo_id
    owner.api.upload_file(path_or_fileobj=b"hush", path_in_repo="s.txt", repo_id=repo_id)
    head = owner.api.list_repo_commits(repo_id)[0].commit_id
    outsider = make_user(web_hub, "outsider")
    paths = [
        f"/{repo_id}",
        f"/{repo_id}/tree/main",
        f"/{repo_id}/blob/main/s.txt",
        f"/{repo_id}/commits/main",
        f"/{repo_id}/commit/{head}",
    ]
    with browser_client(web_hub) as client:
        anonymous = [client.get(p) for p in paths]
        missing = client.get(f"/{owner.name}/{unique_name('missing')}")
        foreign = [
            client.get(p, headers={"authorization": f"Bearer {outsider.token}"}) for p in paths
        ]
        own = [client.get(p, headers={"authorization": f"Bearer {owner.token}"}) for p in paths]
        listing = client.get("/models", params={"search": repo_id.split("/")[1]})

    for page in anonymous + foreign:
        assert page.status_code == 404
        assert "hush" not in page.text and "s.txt" not in page.text
        assert "Repository not found" in page.text
    assert missing.status_code == 404 and "Repository not found" in missing.text
    assert [page.status_code for page in own] == [200] * 5
    assert repo_id not in listing.text


def test_gated_repos_offer_the_access_request_form(web_hub: LiveServer, owner: HubUser) -> None:
    repo_id = owner.api.create_repo(f"{owner.name}/{unique_name('gated')}").repo_id
    owner.api.upload_file(path_or_fileobj=b"secret weights", path_in_repo="w.txt", repo_id=repo_id)
    owner.api.update_repo_settings(repo_id, gated="manual")
    asker = make_user(web_hub, "asker")
    set_password(web_hub, asker.name, "correct horse battery")

    with browser_client(web_hub) as anonymous:
        anonymous_page = anonymous.get(f"/{repo_id}")
    with signed_in_client(web_hub, asker.name, "correct horse battery") as client:
        page = client.get(f"/{repo_id}")
        blob = client.get(f"/{repo_id}/blob/main/w.txt")
        forged = client.post(f"/{repo_id}/access-request", data={"reason": "x", "csrf_token": "0"})
        asked = client.post(
            f"/{repo_id}/access-request",
            data={"reason": "research", "csrf_token": csrf_of(page)},
        )
        after = client.get(asked.headers["location"])

    assert (
        anonymous_page.status_code == 200 and "Sign in</a> to request access" in anonymous_page.text
    )
    assert 'id="gate"' in page.text and f'action="/{repo_id}/access-request"' in page.text
    assert blob.status_code == 403 and "secret weights" not in blob.text
    assert forged.status_code == 403
    assert asked.status_code == 303 and 'id="asked"' in after.text
    pending = list(owner.api.list_pending_access_requests(repo_id))
    assert [(r.username, r.fields) for r in pending] == [(asker.name, {"reason": "research"})]


def test_hostile_cards_file_names_and_commit_messages_are_escaped(
    web_hub: LiveServer, owner: HubUser
) -> None:
    repo_id = owner.api.create_repo(f"{owner.name}/{unique_name('hostile')}").repo_id
    name = '"><img src=x onerror=alert(7)>.txt'
    owner.api.create_commit(
        repo_id,
        [
            CommitOperationAdd("README.md", HOSTILE_CARD.encode()),
            CommitOperationAdd(name, HOSTILE.encode()),
            CommitOperationAdd("x.svg", b'<svg onload="alert(8)"><script>alert(9)</script></svg>'),
        ],
        commit_message=HOSTILE,
        commit_description=HOSTILE,
    )
    head = owner.api.list_repo_commits(repo_id)[0].commit_id
    with browser_client(web_hub) as client:
        pages = [
            client.get(f"/{repo_id}"),
            client.get(f"/{repo_id}/tree/main"),
            client.get(f"/{repo_id}/blob/main/%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(7)%3E.txt"),
            client.get(f"/{repo_id}/blob/main/x.svg"),
            client.get(f"/{repo_id}/commits/main"),
            client.get(f"/{repo_id}/commit/{head}"),
        ]

    for page in pages:
        assert page.status_code == 200, page.url
        body = page.text.replace('<script src="/static/hub.js', "")
        assert "<script" not in body and "<svg" not in body and "<img" not in body
        assert 'href="javascript:' not in body and 'href="data:' not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[4].text


def test_pull_request_revisions_are_read_encoded_or_not(
    web_hub: LiveServer, owner: HubUser, model: str
) -> None:
    owner.api.upload_file(
        path_or_fileobj=b"proposed\n", path_in_repo="pr.txt", repo_id=model, create_pr=True
    )
    with browser_client(web_hub) as client:
        encoded = client.get(f"/{model}/blob/refs%2Fpr%2F1/pr.txt")
        plain = client.get(f"/{model}/blob/refs/pr/1/pr.txt")
        folder = client.get(f"/{model}/tree/refs/pr/1")
        history = client.get(f"/{model}/commits/refs/pr/1")
        page = client.get(f"/{model}")

    assert encoded.status_code == plain.status_code == 200
    assert "proposed" in encoded.text and "proposed" in plain.text
    assert f'href="/{model}/blob/refs%2Fpr%2F1/pr.txt"' in folder.text
    assert history.status_code == 200
    assert f'href="/{model}/tree/refs%2Fpr%2F1"' in page.text


def test_api_paths_keep_the_apis_answers(web_hub: LiveServer) -> None:
    with browser_client(web_hub) as client:
        unknown = client.get("/api/no-such/endpoint")
        bad_page = client.get("/models", params={"p": "x"})

    assert unknown.status_code == 404 and unknown.headers["x-error-code"] == "EndpointNotFound"
    assert bad_page.status_code == 400 and "positive integer" in bad_page.text
