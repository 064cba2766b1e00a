"""File pages over HTTP: dataset previews, safetensors tensor lists and markdown tables."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from huggingface_hub import CommitOperationAdd
from safetensors.numpy import save

from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.live_server import LiveServer
from tests.web.conftest import browser_client

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"


def parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=500)
    return sink.getvalue()


@pytest.fixture(scope="module")
def owner(web_hub: LiveServer) -> HubUser:
    return make_user(web_hub, "previews")


@pytest.fixture(scope="module")
def dataset(owner: HubUser) -> str:
    """A dataset with a file of each previewable format, a hostile one and a corrupt one."""
    repo_id = f"{owner.name}/{unique_name('tables')}"
    owner.api.create_repo(repo_id, repo_type="dataset")
    csv_rows = ["id,text"] + [f"{n},row {n}" for n in range(40)]
    csv_rows.insert(1, f'-1,"{HOSTILE}"')
    jsonl = "\n".join(json.dumps({"q": f"question {n}", "a": n}) for n in range(30))
    table = pa.table({"id": list(range(2000)), "label": [f"label {n % 7}" for n in range(2000)]})
    data = parquet(table)
    owner.api.create_commit(
        repo_id,
        [
            CommitOperationAdd("train.csv", "\n".join(csv_rows).encode()),
            CommitOperationAdd("data/qa.jsonl", jsonl.encode()),
            CommitOperationAdd("rows.json", json.dumps([{"k": "v", "n": 1}]).encode()),
            CommitOperationAdd("data/train-00000.parquet", data),
            CommitOperationAdd("broken.parquet", data[:4] + b"\x13" * 5000 + data[-8:]),
            CommitOperationAdd("not-a-table.json", b'{"just": "an object"}'),
        ],
        commit_message="Tables",
        repo_type="dataset",
    )
    return repo_id


def file_page(server: LiveServer, path: str) -> str:
    with browser_client(server) as client:
        page = client.get(path)
    assert page.status_code == 200, page.text
    return page.text


def preview_of(page: str) -> str:
    assert 'id="preview"' in page
    return page.split('id="preview"', 1)[1].split("</section>", 1)[0]


def test_csv_preview_shows_the_first_rows_with_hostile_text_inert(
    web_hub: LiveServer, dataset: str
) -> None:
    page = file_page(web_hub, f"/datasets/{dataset}/blob/main/train.csv")

    preview = preview_of(page)
    assert '<th scope="col">id</th><th scope="col">text</th>' in preview
    assert "<td>0</td><td>row 0</td>" in preview and "row 18" in preview
    assert "row 19" not in preview  # 20 rows: the hostile one and rows 0 to 18
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in preview


def test_jsonl_json_and_parquet_previews(web_hub: LiveServer, dataset: str) -> None:
    jsonl = preview_of(file_page(web_hub, f"/datasets/{dataset}/blob/main/data/qa.jsonl"))
    json_page = preview_of(file_page(web_hub, f"/datasets/{dataset}/blob/main/rows.json"))
    parquet_page = file_page(web_hub, f"/datasets/{dataset}/blob/main/data/train-00000.parquet")

    assert '<th scope="col">q</th><th scope="col">a</th>' in jsonl
    assert "<td>question 0</td><td>0</td>" in jsonl and "question 19" in jsonl
    assert "question 20" not in jsonl
    assert "<td>v</td><td>1</td>" in json_page
    preview = preview_of(parquet_page)
    assert "2,000 rows; the first 20 rows" in preview
    assert '<th scope="col">id</th><th scope="col">label</th>' in preview
    assert "<td>0</td><td>label 0</td>" in preview and "<td>19</td><td>label 5</td>" in preview


def test_corrupt_and_mislabelled_files_say_the_preview_is_unavailable(
    web_hub: LiveServer, dataset: str
) -> None:
    broken = preview_of(file_page(web_hub, f"/datasets/{dataset}/blob/main/broken.parquet"))
    not_array = preview_of(file_page(web_hub, f"/datasets/{dataset}/blob/main/not-a-table.json"))

    assert 'id="preview-error">Preview unavailable: ' in broken
    assert "Preview unavailable: the file is not an array of objects" in not_array


def test_a_safetensors_file_lists_its_tensors_with_totals(
    web_hub: LiveServer, owner: HubUser
) -> None:
    repo_id = owner.api.create_repo(f"{owner.name}/{unique_name('weights')}").repo_id
    tensors: dict[str, np.ndarray[Any, Any]] = {
        "model.embed.weight": np.zeros((10, 4), dtype=np.float32),
        "model.head.bias": np.zeros((3,), dtype=np.float16),
        f"hostile.{HOSTILE}": np.zeros((2, 2), dtype=np.int8),
    }
    owner.api.upload_file(
        path_or_fileobj=save(tensors), path_in_repo="shard.safetensors", repo_id=repo_id
    )
    owner.api.upload_file(
        path_or_fileobj=b"not safetensors at all", path_in_repo="bad.safetensors", repo_id=repo_id
    )

    page = file_page(web_hub, f"/{repo_id}/blob/main/shard.safetensors")
    bad = file_page(web_hub, f"/{repo_id}/blob/main/bad.safetensors")

    listing = page.split('id="tensors"', 1)[1].split("</section>", 1)[0]
    assert "3 tensors, 47 parameters (F16 3, F32 40, I8 4)" in listing
    assert (
        "<td><code>model.embed.weight</code></td><td>F32</td><td>[10, 4]</td><td>40</td>" in listing
    )
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in listing
    assert 'id="tensors-error">Tensor list unavailable: ' in bad


def test_a_long_tensor_list_is_capped_but_counted(web_hub: LiveServer, owner: HubUser) -> None:
    repo_id = owner.api.create_repo(f"{owner.name}/{unique_name('many')}").repo_id
    tensors = {f"layer.{n:04d}": np.zeros((1,), dtype=np.float32) for n in range(1200)}
    owner.api.upload_file(
        path_or_fileobj=save(tensors), path_in_repo="model.safetensors", repo_id=repo_id
    )

    page = file_page(web_hub, f"/{repo_id}/blob/main/model.safetensors")

    assert "1,200 tensors, 1,200 parameters" in page
    assert "the first 1000 by name are listed" in page
    assert "layer.0999" in page and "layer.1000" not in page


def test_markdown_tables_render_with_hostile_cells_inert(
    web_hub: LiveServer, owner: HubUser
) -> None:
    repo_id = owner.api.create_repo(f"{owner.name}/{unique_name('card')}").repo_id
    card = (
        "# Results\n\n| Metric | Score | Note |\n|:--|--:|:-:|\n"
        "| accuracy | 0.91 | **best** |\n"
        f"| {HOSTILE} | [x](javascript:alert(3)) | <a href=x onclick=alert(4)>a</a> |\n"
    )
    owner.api.upload_file(path_or_fileobj=card.encode(), path_in_repo="README.md", repo_id=repo_id)

    page = file_page(web_hub, f"/{repo_id}")

    rendered = page.split('id="card"', 1)[1].split("</article>", 1)[0]
    assert '<th class="align-left">Metric</th>' in rendered
    assert '<td class="align-right">0.91</td>' in rendered
    assert '<td class="align-center"><strong>best</strong></td>' in rendered
    assert "<script>alert(1)" not in page and "onerror=alert(2)>" not in rendered
    assert 'href="javascript:' not in page and "<a href=x" not in page
    assert "style=" not in rendered


def test_previews_of_a_private_dataset_are_404_pages_for_outsiders(
    web_hub: LiveServer, owner: HubUser
) -> None:
    repo_id = f"{owner.name}/{unique_name('secret')}"
    owner.api.create_repo(repo_id, repo_type="dataset", private=True)
    owner.api.upload_file(
        path_or_fileobj=b"secret,value\nconcealed,42\n",
        path_in_repo="s.csv",
        repo_id=repo_id,
        repo_type="dataset",
    )
    path = f"/datasets/{repo_id}/blob/main/s.csv"

    with browser_client(web_hub) as anonymous:
        hidden = anonymous.get(path)
    with browser_client(web_hub) as outsider:
        other = make_user(web_hub, "outsider")
        refused = outsider.get(path, headers={"authorization": f"Bearer {other.token}"})
    with browser_client(web_hub) as member:
        shown = member.get(path, headers={"authorization": f"Bearer {owner.token}"})

    assert hidden.status_code == 404 and refused.status_code == 404
    assert "concealed" not in hidden.text and "concealed" not in refused.text
    assert "<td>concealed</td><td>42</td>" in preview_of(shown.text)
