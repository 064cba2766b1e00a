"""Space secrets and variables through the official client: add, list, overwrite, delete, and
who may do it. A secret's value never comes back in any response."""

from __future__ import annotations

import stat
from collections.abc import Callable

import httpx
import pytest
import sqlalchemy as sa
from huggingface_hub import HfApi
from huggingface_hub.errors import BadRequestError, HfHubHTTPError, RepositoryNotFoundError

from hubstead.server.domain.accounts import Role
from tests.helpers.accounts import HubUser, unique_name
from tests.helpers.live_server import LiveServer

SECRET_VALUE = "s3cr3t-value-never-shown"


@pytest.fixture
def space(repo_factory: Callable[..., str]) -> str:
    return repo_factory("space")


def test_variables_are_added_listed_overwritten_and_deleted(hf_api: HfApi, space: str) -> None:
    assert hf_api.get_space_variables(space) == {}

    answer = hf_api.add_space_variable(space, "MODEL_NAME", "gpt2", description="which model")
    hf_api.add_space_variable(space, "BATCH", "8")
    hf_api.add_space_variable(space, "MODEL_NAME", "bert", description="now bert")

    assert set(answer) == {"MODEL_NAME"}
    listed = hf_api.get_space_variables(space)
    assert sorted(listed) == ["BATCH", "MODEL_NAME"]
    assert (listed["MODEL_NAME"].value, listed["MODEL_NAME"].description) == ("bert", "now bert")
    assert listed["BATCH"].updated_at is not None
    assert list(hf_api.delete_space_variable(space, "BATCH")) == ["MODEL_NAME"]
    assert list(hf_api.get_space_variables(space)) == ["MODEL_NAME"]


def test_secrets_are_listed_by_name_and_their_values_never_returned(
    live_server: LiveServer, user: HubUser, hf_api: HfApi, space: str
) -> None:
    headers = {"authorization": f"Bearer {user.token}"}
    url = f"{live_server.url}/api/spaces/{space}/secrets"

    added = httpx.post(url, headers=headers, json={"key": "API_KEY", "value": SECRET_VALUE})
    hf_api.add_space_secret(space, "API_KEY", SECRET_VALUE + "-2", description="the API key")
    hf_api.add_space_secret(space, "OTHER", SECRET_VALUE)
    listed = httpx.get(url, headers=headers)
    deleted = httpx.request("DELETE", url, headers=headers, json={"key": "OTHER"})

    for response in (added, listed, deleted):
        assert response.status_code == 200
        assert SECRET_VALUE not in response.text
    assert set(listed.json()["API_KEY"]) == {"description", "updatedAt"}
    secrets = hf_api.get_space_secrets(space)
    assert list(secrets) == ["API_KEY"]
    assert secrets["API_KEY"].description == "the API key"
    assert secrets["API_KEY"].updated_at is not None
    assert hf_api.get_space_variables(space) == {}


def test_a_key_is_either_a_secret_or_a_variable(hf_api: HfApi, space: str) -> None:
    hf_api.add_space_secret(space, "TOKEN", SECRET_VALUE)

    with pytest.raises(BadRequestError) as caught:
        hf_api.add_space_variable(space, "TOKEN", "visible")

    assert "already a secret" in caught.value.response.headers["X-Error-Message"]
    assert hf_api.get_space_variables(space) == {}


@pytest.mark.parametrize(
    ("key", "value", "description", "message"),
    [
        ("", "v", None, "must not be empty"),
        ("1ST", "v", None, "not an environment variable name"),
        ("MY-KEY", "v", None, "not an environment variable name"),
        ("KEY WITH SPACE", "v", None, "not an environment variable name"),
        ("K" * 129, "v", None, "longer than 128 characters"),
        ("PATH", "/tmp", None, "reserved"),
        ("home", "/tmp", None, "reserved"),
        ("LD_PRELOAD", "/tmp/evil.so", None, "reserved"),
        ("PYTHONPATH", "/tmp", None, "reserved"),
        ("SPACE_ID", "someone/else", None, "reserved"),
        ("HF_TOKEN", "hf_x", None, "reserved"),
        ("BIG", "x" * (1024 * 1024), None, "larger than 64 KiB"),
        ("DESCRIBED", "v", "d" * 1001, "description is longer than 1000"),
        ("CUT", "before\x00after", None, "value must not contain NUL"),
        ("DESCRIBED", "v", "a\x00b", "description must not contain NUL"),
    ],
)
@pytest.mark.parametrize("kind", ["secret", "variable"])
def test_bad_input_is_a_400_saying_what_is_wrong(
    hf_api: HfApi,
    space: str,
    kind: str,
    key: str,
    value: str,
    description: str | None,
    message: str,
) -> None:
    add = hf_api.add_space_secret if kind == "secret" else hf_api.add_space_variable

    with pytest.raises(BadRequestError) as caught:
        add(space, key, value, description=description)

    assert message in caught.value.response.headers["X-Error-Message"]
    assert hf_api.get_space_secrets(space) == {}
    assert hf_api.get_space_variables(space) == {}


@pytest.mark.parametrize("field", ["value", "description"])
def test_a_lone_surrogate_is_a_400_not_a_500(
    live_server: LiveServer, user: HubUser, space: str, field: str
) -> None:
    fields = {"key": "K", "value": "v", field: "\\ud800"}
    body = "{" + ", ".join(f'"{k}": "{v}"' for k, v in fields.items()) + "}"

    response = httpx.post(
        f"{live_server.url}/api/spaces/{space}/variables",
        headers={"authorization": f"Bearer {user.token}", "content-type": "application/json"},
        content=body.encode(),
    )

    assert response.status_code == 400
    assert "lone surrogate" in response.headers["X-Error-Message"]


def test_a_space_holds_at_most_100_secrets_and_variables(hf_api: HfApi, space: str) -> None:
    for n in range(50):
        hf_api.add_space_secret(space, f"S{n}", "v")
        hf_api.add_space_variable(space, f"V{n}", "v")

    with pytest.raises(BadRequestError) as caught:
        hf_api.add_space_variable(space, "ONE_MORE", "v")

    assert "at most 100" in caught.value.response.headers["X-Error-Message"]
    hf_api.add_space_variable(space, "V0", "replacing is still allowed")
    assert hf_api.get_space_variables(space)["V0"].value == "replacing is still allowed"


def _error(response: httpx.Response, repo_id: str) -> tuple[int, str, str]:
    message = response.headers["X-Error-Message"].replace(repo_id, "<id>")
    return response.status_code, response.headers["X-Error-Code"], message


@pytest.mark.parametrize("path", ["secrets", "variables"])
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_a_private_space_is_as_missing_to_outsiders_as_no_space(
    live_server: LiveServer,
    user: HubUser,
    other_user: HubUser,
    repo_factory: Callable[..., str],
    path: str,
    method: str,
) -> None:
    private = repo_factory("space", private=True)
    user.api.add_space_variable(private, "KEPT", "v")
    missing = f"{user.name}/{unique_name('missing')}"
    headers = {"authorization": f"Bearer {other_user.token}"}

    def send(repo_id: str) -> httpx.Response:
        body = {"key": "KEPT", "value": "x"}
        url = f"{live_server.url}/api/spaces/{repo_id}/{path}"
        return httpx.request(method, url, headers=headers, json=body)

    hidden, absent = send(private), send(missing)

    assert _error(hidden, private) == _error(absent, missing)
    assert _error(hidden, private)[:2] == (404, "RepoNotFound")
    assert user.api.get_space_variables(private)["KEPT"].value == "v"


def test_readers_of_a_public_space_and_read_tokens_are_refused(
    live_server: LiveServer, user: HubUser, other_user: HubUser, space: str
) -> None:
    user.api.add_space_variable(space, "KEPT", "v")
    read_token = live_server.services.auth.create_token(user.name, Role.READ).secret
    owner_reading = HfApi(endpoint=live_server.url, token=read_token)

    for api in (other_user.api, owner_reading):
        with pytest.raises(HfHubHTTPError) as listing:
            api.get_space_variables(space)
        with pytest.raises(HfHubHTTPError) as adding:
            api.add_space_secret(space, "STOLEN", "x")
        assert listing.value.response.status_code == 403
        assert adding.value.response.status_code == 403
    assert user.api.get_space_secrets(space) == {}


def test_a_model_is_not_a_space(hf_api: HfApi, repo: str) -> None:
    with pytest.raises(RepositoryNotFoundError) as caught:
        hf_api.add_space_variable(repo, "KEY", "v")

    assert f"space {repo}" in caught.value.response.headers["X-Error-Message"]


def test_deleting_a_space_deletes_its_secrets_and_variables(
    hf_api: HfApi, user: HubUser, repo_factory: Callable[..., str]
) -> None:
    space = repo_factory("space")
    hf_api.add_space_secret(space, "API_KEY", SECRET_VALUE)
    hf_api.add_space_variable(space, "MODE", "fast")

    hf_api.delete_repo(space, repo_type="space")
    hf_api.create_repo(space, repo_type="space", space_sdk="gradio")

    assert hf_api.get_space_secrets(space) == {}
    assert hf_api.get_space_variables(space) == {}


def test_a_duplicated_space_gets_the_variables_not_the_secrets(
    hf_api: HfApi, user: HubUser, space: str
) -> None:
    hf_api.add_space_secret(space, "API_KEY", SECRET_VALUE)
    hf_api.add_space_variable(space, "MODE", "fast", description="speed")
    target = f"{user.name}/{unique_name('copy')}"

    hf_api.duplicate_repo(space, target, repo_type="space")

    try:
        copied = hf_api.get_space_variables(target)
        assert (copied["MODE"].value, copied["MODE"].description) == ("fast", "speed")
        assert hf_api.get_space_secrets(target) == {}
    finally:
        hf_api.delete_repo(target, repo_type="space")


def test_the_database_holds_secrets_sealed_under_a_private_key_file(
    live_server: LiveServer, hf_api: HfApi, space: str
) -> None:
    hf_api.add_space_secret(space, "API_KEY", SECRET_VALUE)
    hf_api.add_space_variable(space, "MODE", "plain-visible")

    engine = sa.create_engine(live_server.settings.effective_database_url)
    try:
        with engine.connect() as conn:
            query = sa.text(
                "SELECT key, value FROM space_env JOIN repos ON repos.id = space_env.repo_id"
                " WHERE repos.name = :name"
            )
            rows: dict[str, bytes] = dict(
                conn.execute(query, {"name": space.partition("/")[2]}).all()
            )
    finally:
        engine.dispose()
    key_file = live_server.data_dir / "space-secrets.key"

    assert SECRET_VALUE.encode() not in bytes(rows["API_KEY"])
    assert bytes(rows["MODE"]) == b"plain-visible"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_create_repo_gives_a_new_space_its_secrets_and_variables(
    hf_api: HfApi, user: HubUser, repo_factory: Callable[..., str]
) -> None:
    space = repo_factory(
        "space",
        space_secrets=[{"key": "API_KEY", "value": SECRET_VALUE, "description": "the key"}],
        space_variables=[{"key": "MODE", "value": "fast"}],
    )

    assert hf_api.get_space_secrets(space)["API_KEY"].description == "the key"
    assert hf_api.get_space_variables(space)["MODE"].value == "fast"


@pytest.mark.parametrize(
    ("secrets", "variables", "message"),
    [
        ([{"key": "PATH", "value": "/tmp"}], [], "reserved"),
        ([], [{"key": "BIG", "value": "x" * (1024 * 1024)}], "larger than 64 KiB"),
        ([{"key": "K", "value": "a"}], [{"key": "K", "value": "b"}], "given once"),
    ],
)
def test_create_repo_with_bad_entries_creates_nothing(
    hf_api: HfApi,
    user: HubUser,
    secrets: list[dict[str, str]],
    variables: list[dict[str, str]],
    message: str,
) -> None:
    space = f"{user.name}/{unique_name('refused')}"

    with pytest.raises(BadRequestError) as caught:
        hf_api.create_repo(
            space,
            repo_type="space",
            space_sdk="gradio",
            space_secrets=secrets,
            space_variables=variables,
        )

    assert message in caught.value.response.headers["X-Error-Message"]
    assert not hf_api.repo_exists(space, repo_type="space")


def test_only_a_space_is_created_with_secrets(
    live_server: LiveServer, hf_api: HfApi, user: HubUser
) -> None:
    name = unique_name("model")
    body = {"name": name, "type": "model", "secrets": [{"key": "K", "value": "v"}]}

    response = httpx.post(
        f"{live_server.url}/api/repos/create",
        headers={"authorization": f"Bearer {user.token}"},
        json=body,
    )

    assert response.status_code == 400
    assert "Only a Space" in response.headers["X-Error-Message"]
    assert not hf_api.repo_exists(f"{user.name}/{name}")
