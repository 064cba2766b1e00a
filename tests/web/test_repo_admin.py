"""Repo administration over HTTP: settings, the access-request queue, new repos and uploads."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from huggingface_hub import hf_hub_download
from huggingface_hub.errors import GatedRepoError
from huggingface_hub.hf_api import RepoFile

from hubstead.server.domain.accounts import Role
from tests.helpers.accounts import HubUser, make_org, make_user, unique_name
from tests.helpers.live_server import LiveServer
from tests.web.conftest import HOSTILE, PASSWORD, csrf_of, signed_in_client, user_with_password


@pytest.fixture(scope="module")
def owner(web_hub: LiveServer) -> HubUser:
    return user_with_password(web_hub, "admin")


@pytest.fixture(scope="module")
def other(web_hub: LiveServer) -> HubUser:
    return user_with_password(web_hub, "other")


def new_model(owner: HubUser, *, private: bool = False) -> str:
    repo_id = owner.api.create_repo(f"{owner.name}/{unique_name('m')}", private=private).repo_id
    owner.api.upload_file(path_or_fileobj=b"weights", path_in_repo="w.txt", repo_id=repo_id)
    return repo_id


def test_settings_are_for_writers_only(web_hub: LiveServer, owner: HubUser, other: HubUser) -> None:
    public, private = new_model(owner), new_model(owner, private=True)
    with httpx.Client(base_url=web_hub.url, headers={"accept": "text/html"}) as anonymous:
        anonymous_page = anonymous.get(f"/{public}/settings")
    with signed_in_client(web_hub, other.name, PASSWORD) as client:
        not_allowed = client.get(f"/{public}/settings")
        hidden = client.get(f"/{private}/settings")
        queue = client.get(f"/{public}/settings/access-requests")
        token = csrf_of(client.get("/settings/tokens"))
        posted = client.post(
            f"/{public}/settings/visibility", data={"csrf_token": token, "visibility": "private"}
        )
        deleted = client.post(
            f"/{public}/settings/delete", data={"csrf_token": token, "confirm": public}
        )
        repo_page = client.get(f"/{public}")
    with signed_in_client(web_hub, owner.name, PASSWORD) as client:
        own = client.get(f"/{public}/settings")
        own_repo_page = client.get(f"/{public}")

    assert anonymous_page.status_code == 303
    assert anonymous_page.headers["location"].startswith("/login?")
    assert not_allowed.status_code == 403 and "visibility-form" not in not_allowed.text
    assert hidden.status_code == 404 and "visibility-form" not in hidden.text
    assert queue.status_code == 403
    assert posted.status_code == 403 and deleted.status_code == 403
    assert owner.api.repo_info(public).private is False
    assert 'id="settings-tab"' not in repo_page.text and 'id="upload-link"' not in repo_page.text
    assert own.status_code == 200
    for form in ("visibility-form", "gating-form", "move-form", "delete-form"):
        assert f'id="{form}"' in own.text
    assert 'id="settings-tab"' in own_repo_page.text and 'id="upload-link"' in own_repo_page.text


def test_visibility_and_gating_round_trip(web_hub: LiveServer, owner: HubUser) -> None:
    repo_id = new_model(owner)
    with signed_in_client(web_hub, owner.name, PASSWORD) as client:
        token = csrf_of(client.get(f"/{repo_id}/settings"))
        made_private = client.post(
            f"/{repo_id}/settings/visibility", data={"csrf_token": token, "visibility": "private"}
        )
        private_info = owner.api.repo_info(repo_id)
        gated = client.post(
            f"/{repo_id}/settings/gating", data={"csrf_token": token, "gated": "manual"}
        )
        page = client.get(gated.headers["location"])
        gated_info = owner.api.repo_info(repo_id)
        client.post(f"/{repo_id}/settings/gating", data={"csrf_token": token, "gated": "off"})
        client.post(
            f"/{repo_id}/settings/visibility", data={"csrf_token": token, "visibility": "public"}
        )
        forged = client.post(
            f"/{repo_id}/settings/visibility", data={"csrf_token": "0", "visibility": "private"}
        )
        tokenless = client.post(f"/{repo_id}/settings/gating", data={"gated": "auto"})
        bad = client.post(f"/{repo_id}/settings/gating", data={"csrf_token": token, "gated": "x"})

    assert made_private.status_code == 303 and private_info.private is True
    assert gated.status_code == 303 and gated_info.gated == "manual"
    assert 'id="saved"' in page.text and '<option value="manual" selected>' in page.text
    assert forged.status_code == 403 and tokenless.status_code == 403
    assert bad.status_code == 400
    info = owner.api.repo_info(repo_id)
    assert info.private is False and info.gated is False


def test_rename_redirects_to_the_new_url_and_the_old_one_follows(
    web_hub: LiveServer, owner: HubUser
) -> None:
    repo_id = new_model(owner)
    new_id = f"{owner.name}/{unique_name('renamed')}"
    with signed_in_client(web_hub, owner.name, PASSWORD) as client:
        token = csrf_of(client.get(f"/{repo_id}/settings"))
        invalid = client.post(
            f"/{repo_id}/settings/move", data={"csrf_token": token, "to": "no-slash"}
        )
        elsewhere = client.post(
            f"/{repo_id}/settings/move", data={"csrf_token": token, "to": "nobody-here/x"}
        )
        moved = client.post(f"/{repo_id}/settings/move", data={"csrf_token": token, "to": new_id})
        old_page = client.get(f"/{repo_id}")
        old_file = client.get(f"/{repo_id}/blob/main/w.txt")

    assert invalid.status_code == 400 and 'id="move-error"' in invalid.text
    assert elsewhere.status_code == 400 and "does not exist" in elsewhere.text
    assert (
        moved.status_code == 303 and moved.headers["location"] == f"/{new_id}/settings?saved=move"
    )
    assert old_page.status_code == 307 and old_page.headers["location"] == f"/{new_id}"
    assert old_file.headers["location"] == f"/{new_id}/blob/main/w.txt"
    assert owner.api.repo_info(new_id).id == new_id


def test_delete_needs_the_typed_repo_id(web_hub: LiveServer, owner: HubUser) -> None:
    repo_id = new_model(owner)
    with signed_in_client(web_hub, owner.name, PASSWORD) as client:
        token = csrf_of(client.get(f"/{repo_id}/settings"))
        wrong = client.post(
            f"/{repo_id}/settings/delete", data={"csrf_token": token, "confirm": "yes"}
        )
        still_there = owner.api.repo_exists(repo_id)
        tokenless = client.post(f"/{repo_id}/settings/delete", data={"confirm": repo_id})
        deleted = client.post(
            f"/{repo_id}/settings/delete", data={"csrf_token": token, "confirm": repo_id}
        )
        front = client.get(deleted.headers["location"])

    assert wrong.status_code == 400 and f"Type {repo_id} to confirm" in wrong.text
    assert still_there and tokenless.status_code == 403
    assert deleted.status_code == 303 and f"{repo_id} was deleted." in front.text
    assert not owner.api.repo_exists(repo_id)


def test_access_request_queue_accepts_rejects_and_grants(
    web_hub: LiveServer, owner: HubUser, other: HubUser, tmp_path: Path
) -> None:
    repo_id = new_model(owner)
    owner.api.update_repo_settings(repo_id, gated="manual")
    asker, granted = user_with_password(web_hub, "asker"), make_user(web_hub, "granted")
    with signed_in_client(web_hub, asker.name, PASSWORD) as client:
        token = csrf_of(client.get(f"/{repo_id}"))
        client.post(f"/{repo_id}/access-request", data={"csrf_token": token, "reason": HOSTILE})
    with pytest.raises(GatedRepoError):
        hf_hub_download(repo_id, "w.txt", token=asker.token, endpoint=web_hub.url)
    with signed_in_client(web_hub, other.name, PASSWORD) as client:
        outsider = client.get(f"/{repo_id}/settings/access-requests")
    with signed_in_client(web_hub, owner.name, PASSWORD) as client:
        pending = client.get(f"/{repo_id}/settings/access-requests")
        token = csrf_of(pending)
        url = f"/{repo_id}/settings/access-requests"
        accepted = client.post(
            url + "/handle", data={"csrf_token": token, "user": asker.name, "status": "accepted"}
        )
        hf_hub_download(repo_id, "w.txt", token=asker.token, endpoint=web_hub.url)
        rejected = client.post(
            url + "/handle",
            data={
                "csrf_token": token,
                "user": asker.name,
                "status": "rejected",
                "reason": "not <b>today</b>",
                "from": "accepted",
            },
        )
        rejected_page = client.get(url + "?status=rejected")
        unknown = client.post(url + "/grant", data={"csrf_token": token, "user": "nobody-x"})
        grant = client.post(url + "/grant", data={"csrf_token": token, "user": granted.name})
        accepted_page = client.get(grant.headers["location"])
        tokenless = client.post(url + "/grant", data={"user": asker.name})

    assert outsider.status_code == 403
    assert pending.status_code == 200 and f'data-user="{asker.name}"' in pending.text
    assert "<script>alert(1)" not in pending.text and "&lt;script&gt;alert(1)" in pending.text
    assert "<img src=x" not in pending.text
    assert accepted.status_code == 303 and rejected.status_code == 303
    assert "not &lt;b&gt;today&lt;/b&gt;" in rejected_page.text
    with pytest.raises(GatedRepoError):
        hf_hub_download(
            repo_id, "w.txt", token=asker.token, endpoint=web_hub.url, cache_dir=tmp_path
        )
    assert unknown.status_code == 404 and 'id="queue-error"' in unknown.text
    assert grant.status_code == 303 and f'data-user="{granted.name}"' in accepted_page.text
    assert tokenless.status_code == 403
    hf_hub_download(repo_id, "w.txt", token=granted.token, endpoint=web_hub.url)


def test_new_repos_of_each_type(web_hub: LiveServer, owner: HubUser, other: HubUser) -> None:
    org = make_org(web_hub, {owner.name: Role.WRITE, other.name: Role.READ})
    model, dataset, space = unique_name("new"), unique_name("data"), unique_name("space")
    with signed_in_client(web_hub, owner.name, PASSWORD) as client:
        form = client.get("/new")
        token = csrf_of(form)
        created = client.post(
            "/new",
            data={
                "csrf_token": token,
                "owner": org,
                "name": model,
                "visibility": "private",
                "license": "mit",
            },
        )
        again = client.post("/new", data={"csrf_token": token, "owner": org, "name": model})
        bad_name = client.post("/new-dataset", data={"csrf_token": token, "name": HOSTILE})
        made_dataset = client.post("/new-dataset", data={"csrf_token": token, "name": dataset})
        no_sdk = client.post("/new-space", data={"csrf_token": token, "name": space})
        made_space = client.post(
            "/new-space", data={"csrf_token": token, "name": space, "sdk": "static"}
        )
        tokenless = client.post("/new", data={"name": unique_name("x")})
    with signed_in_client(web_hub, other.name, PASSWORD) as client:
        reader_form = client.get("/new")
        reader = client.post(
            "/new",
            data={"csrf_token": csrf_of(reader_form), "owner": org, "name": unique_name("no")},
        )

    assert form.status_code == 200 and f'<option value="{org.lower()}"' in form.text
    assert created.status_code == 303 and created.headers["location"] == f"/{org}/{model}"
    info = owner.api.model_info(f"{org}/{model}")
    assert info.private is True and info.card_data is not None
    assert info.card_data.get("license") == "mit"
    assert again.status_code == 409 and 'id="new-repo-error"' in again.text
    assert bad_name.status_code == 400 and "<script>alert(1)" not in bad_name.text
    assert made_dataset.headers["location"] == f"/datasets/{owner.name}/{dataset}"
    assert owner.api.repo_info(f"{owner.name}/{dataset}", repo_type="dataset").private is False
    assert no_sdk.status_code == 400 and "needs an SDK" in no_sdk.text
    assert made_space.headers["location"] == f"/spaces/{owner.name}/{space}"
    assert owner.api.space_info(f"{owner.name}/{space}").sdk == "static"
    assert tokenless.status_code == 403
    assert f'<option value="{org.lower()}"' not in reader_form.text
    assert reader.status_code == 403 and "rights to write" in reader.text


def _tree(owner: HubUser, repo_id: str, revision: str = "main") -> dict[str, RepoFile]:
    entries = owner.api.list_repo_tree(repo_id, revision=revision, recursive=True)
    return {entry.path: entry for entry in entries if isinstance(entry, RepoFile)}


def test_upload_commits_small_files_inline_and_large_ones_through_lfs(
    web_hub: LiveServer, owner: HubUser
) -> None:
    repo_id = new_model(owner)
    large = os.urandom(11 * 1000 * 1000)
    with signed_in_client(web_hub, owner.name, PASSWORD) as client:
        form = client.get(f"/{repo_id}/upload/main/data")
        token = csrf_of(form)
        uploaded = client.post(
            f"/{repo_id}/upload/main/data",
            data={"csrf_token": token, "summary": "Add notes and blob"},
            files=[
                ("files", ("notes.txt", b"hello from the browser\n", "text/plain")),
                ("files", ("blob.dat", large, "application/octet-stream")),
            ],
        )
        folder = client.get(uploaded.headers["location"])
        as_pr = client.post(
            f"/{repo_id}/upload/main",
            data={"csrf_token": token, "create_pr": "1"},
            files=[("files", ("proposal.txt", b"maybe\n", "text/plain"))],
        )
        tokenless = client.post(
            f"/{repo_id}/upload/main", files=[("files", ("x.txt", b"x", "text/plain"))]
        )
        # What a browser sends when no file was chosen.
        empty = client.post(
            f"/{repo_id}/upload/main",
            data={"csrf_token": token},
            files=[("files", ("", b"", "application/octet-stream"))],
        )
        tag = client.get(f"/{repo_id}/upload/v1")

    assert form.status_code == 200 and 'type="file"' in form.text and "upload.js" in form.text
    assert uploaded.status_code == 303
    assert uploaded.headers["location"] == f"/{repo_id}/tree/main/data"
    assert "notes.txt" in folder.text and "blob.dat" in folder.text
    files = _tree(owner, repo_id)
    assert files["data/notes.txt"].lfs is None
    lfs = files["data/blob.dat"].lfs
    assert lfs is not None and lfs.size == len(large)
    commit = owner.api.list_repo_commits(repo_id)[0]
    assert commit.title == "Add notes and blob"
    path = hf_hub_download(repo_id, "data/blob.dat", token=owner.token, endpoint=web_hub.url)
    with open(path, "rb") as stream:
        assert stream.read() == large
    assert as_pr.status_code == 303 and as_pr.headers["location"].endswith("/tree/refs%2Fpr%2F1")
    assert "proposal.txt" in _tree(owner, repo_id, "refs/pr/1")
    assert "proposal.txt" not in _tree(owner, repo_id)
    assert tokenless.status_code == 403
    assert empty.status_code == 400 and "at least one file" in empty.text
    assert tag.status_code == 404


def test_upload_is_refused_to_readers_and_outsiders(
    web_hub: LiveServer, owner: HubUser, other: HubUser
) -> None:
    public, private = new_model(owner), new_model(owner, private=True)
    with signed_in_client(web_hub, other.name, PASSWORD) as client:
        token = csrf_of(client.get("/settings/tokens"))
        page = client.get(f"/{public}/upload/main")
        posted = client.post(
            f"/{public}/upload/main",
            data={"csrf_token": token},
            files=[("files", ("x.txt", b"x", "text/plain"))],
        )
        hidden = client.get(f"/{private}/upload/main")

    assert page.status_code == 403 and posted.status_code == 403
    assert hidden.status_code == 404
    assert "x.txt" not in _tree(owner, public)
