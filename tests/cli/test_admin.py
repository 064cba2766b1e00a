"""`hubstead admin …` on the data dir of a running hub, checked with the official client."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from hubstead.cli.main import cli
from hubstead.server.domain.accounts import Role
from tests.helpers.accounts import HubUser, make_org, make_user, unique_name
from tests.helpers.live_server import LiveServer


def storage_args(server: LiveServer) -> list[str]:
    """The options that point the CLI at the live server's data dir and database."""
    args = ["--data-dir", str(server.data_dir)]
    if server.settings.database_url is not None:
        args += ["--database-url", server.settings.database_url]
    return args


def admin(server: LiveServer, command: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["admin", command, *storage_args(server), *args])


def status_of(api: HfApi) -> int:
    with pytest.raises(HfHubHTTPError) as caught:
        api.whoami()
    return caught.value.response.status_code


def test_user_created_by_the_installed_command_works_against_the_running_hub(
    live_server: LiveServer,
) -> None:
    name = unique_name("cli")

    command = [sys.executable, "-m", "hubstead.cli", "admin", "create-user", name]
    options = ["--fullname", "Ada Lovelace", "--email", "ada@example.test"]

    completed = subprocess.run(
        [*command, *options, *storage_args(live_server)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert completed.returncode == 0, completed.stderr
    token = completed.stdout.strip()
    assert token.startswith("hf_")
    assert f"Created user {name!r}" in completed.stderr
    api = HfApi(endpoint=live_server.url, token=token)
    me = api.whoami()
    assert (me["name"], me["fullname"], me["email"]) == (name, "Ada Lovelace", "ada@example.test")
    assert me["auth"]["accessToken"] == {"displayName": "cli", "role": "write"}
    assert api.create_repo(f"{name}/{unique_name('repo')}").repo_id.startswith(f"{name}/")


def test_console_script_is_installed_next_to_the_interpreter() -> None:
    script = Path(sys.executable).parent / "hubstead"
    if not script.exists():
        pytest.fail(f"no hubstead console script beside {sys.executable}: pip install -e .")

    completed = subprocess.run(
        [str(script), "admin", "--help"], capture_output=True, text=True, check=False, timeout=60
    )

    assert completed.returncode == 0
    for command in (
        "create-user",
        "create-token",
        "create-org",
        "list-users",
        "list-orgs",
        "list-tokens",
        "delete-user",
        "delete-org",
        "revoke-token",
        "add-member",
        "remove-member",
    ):
        assert command in completed.stdout


def test_revoked_token_is_refused_by_the_running_hub_at_once(live_server: LiveServer) -> None:
    name = unique_name("revoke")
    first = admin(live_server, "create-user", name).stdout.strip()
    second = admin(live_server, "create-token", name, "--name", "laptop").stdout.strip()
    assert HfApi(endpoint=live_server.url, token=first).whoami()["name"] == name

    result = admin(live_server, "revoke-token", name, "cli")

    assert result.exit_code == 0, result.output
    assert "Revoked 1 token(s) named 'cli'" in result.stderr
    assert status_of(HfApi(endpoint=live_server.url, token=first)) == 401
    assert HfApi(endpoint=live_server.url, token=second).whoami()["name"] == name
    again = admin(live_server, "revoke-token", name, "cli")
    assert again.exit_code == 2
    assert "has no token named 'cli'" in again.stderr


def test_explicit_tokens_are_the_ones_that_work(live_server: LiveServer) -> None:
    name = unique_name("explicit")
    given = f"hf_given_{unique_name('t')}"
    extra = f"hf_extra_{unique_name('t')}"

    created = admin(live_server, "create-user", name, "--token", given)
    added = admin(live_server, "create-token", name, "--token", extra, "--role", "read")

    assert (created.exit_code, created.stdout.strip()) == (0, given)
    assert (added.exit_code, added.stdout.strip()) == (0, extra)
    assert HfApi(endpoint=live_server.url, token=given).whoami()["name"] == name
    reader = HfApi(endpoint=live_server.url, token=extra).whoami()
    assert reader["auth"]["accessToken"] == {"displayName": "read-token", "role": "read"}
    reused = admin(live_server, "create-token", name, "--token", given)
    assert reused.exit_code == 4
    assert "already in use" in reused.stderr


def test_read_token_from_the_cli_cannot_write(live_server: LiveServer, user: HubUser) -> None:
    token = admin(live_server, "create-token", user.name, "--role", "read").stdout.strip()
    api = HfApi(endpoint=live_server.url, token=token)

    with pytest.raises(HfHubHTTPError) as caught:
        api.create_repo(f"{user.name}/{unique_name('ro')}")

    assert caught.value.response.status_code == 403


def test_create_user_json_output_parses(live_server: LiveServer) -> None:
    name = unique_name("json")

    result = admin(live_server, "create-user", name, "--json")

    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert {k: created[k] for k in ("user", "name", "role")} == {
        "user": name,
        "name": "cli",
        "role": "write",
    }
    assert HfApi(endpoint=live_server.url, token=created["token"]).whoami()["name"] == name


def test_duplicate_user_exits_4_with_a_clear_message(live_server: LiveServer) -> None:
    name = unique_name("dup")
    assert admin(live_server, "create-user", name).exit_code == 0

    result = admin(live_server, "create-user", name.upper())

    assert result.exit_code == 4
    assert f"The name {name.upper()!r} is already taken" in result.stderr
    assert result.stdout == ""


def test_create_token_for_unknown_user_exits_2(live_server: LiveServer) -> None:
    result = admin(live_server, "create-token", unique_name("ghost"))

    assert result.exit_code == 2
    assert "No user named" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("command", ["create-user", "create-org"])
@pytest.mark.parametrize("name", ["has space", "-dash", "a--b", "x.git"])
def test_invalid_names_exit_1(live_server: LiveServer, command: str, name: str) -> None:
    result = admin(live_server, command, "--", name)

    assert result.exit_code == 1
    assert f"Invalid name {name!r}" in result.stderr


def test_malformed_command_line_exits_1_not_the_not_found_code(live_server: LiveServer) -> None:
    unknown_option = admin(live_server, "create-user", unique_name("u"), "--colour", "blue")
    bad_role = admin(live_server, "create-token", unique_name("u"), "--role", "owner")

    assert (unknown_option.exit_code, bad_role.exit_code) == (1, 1)
    assert "No such option '--colour'" in unknown_option.stderr
    assert "Invalid value for '--role'" in bad_role.stderr


def test_refused_token_leaves_no_user_behind(live_server: LiveServer) -> None:
    name = unique_name("atomic")

    refused = admin(live_server, "create-user", name, "--token", "short")
    retried = admin(live_server, "create-user", name)

    assert refused.exit_code == 1
    assert "at least 8 printable characters" in refused.stderr
    assert retried.exit_code == 0, retried.output


@pytest.mark.parametrize("spec", ["alice", "alice:owner", ":write", "alice:"])
def test_bad_member_spec_exits_1(live_server: LiveServer, spec: str) -> None:
    org = unique_name("org")

    created = admin(live_server, "create-org", org, "--member", spec)
    added = admin(live_server, "add-member", org, spec)

    assert created.exit_code == 1
    assert f"a member is USER:ROLE with ROLE read, write or admin, not {spec!r}" in created.stderr
    assert added.exit_code == 1
    assert admin(live_server, "list-orgs", "--json").stdout.count(f'"{org}"') == 0


def test_org_members_from_the_cli_can_write_into_the_org_until_removed(
    live_server: LiveServer, user: HubUser, other_user: HubUser
) -> None:
    org = unique_name("org")

    created = admin(
        live_server, "create-org", org, "--fullname", "Acme", "--member", f"{user.name}:write"
    )

    assert created.exit_code == 0, created.output
    assert user.api.create_repo(f"{org}/{unique_name('repo')}").repo_id.startswith(f"{org}/")
    with pytest.raises(HfHubHTTPError) as outsider:
        other_user.api.create_repo(f"{org}/{unique_name('repo')}")
    assert outsider.value.response.status_code == 403

    assert admin(live_server, "add-member", org, f"{other_user.name}:read").exit_code == 0
    orgs = json.loads(admin(live_server, "list-orgs", "--json").stdout)
    members = next(o["members"] for o in orgs if o["name"] == org)
    assert set(members.split(",")) == {f"{user.name}:write", f"{other_user.name}:read"}

    assert admin(live_server, "remove-member", org, user.name).exit_code == 0
    with pytest.raises(HfHubHTTPError) as removed:
        user.api.create_repo(f"{org}/{unique_name('repo')}")
    assert removed.value.response.status_code == 403
    not_member = admin(live_server, "remove-member", org, user.name)
    assert not_member.exit_code == 2
    assert "is not a member" in not_member.stderr


def test_create_org_with_an_unknown_member_exits_2_and_creates_nothing(
    live_server: LiveServer,
) -> None:
    org = unique_name("org")

    result = admin(live_server, "create-org", org, "--member", f"{unique_name('ghost')}:read")

    assert result.exit_code == 2
    assert "No user named" in result.stderr
    assert org not in admin(live_server, "list-orgs", "--json").stdout


def test_list_commands_print_json_that_parses(live_server: LiveServer) -> None:
    name = unique_name("listed")
    org = unique_name("org")
    admin(live_server, "create-user", name, "--admin", "--email", "l@example.test")
    admin(live_server, "create-org", org, "--member", f"{name}:admin")
    admin(live_server, "create-token", name, "--role", "read", "--name", "ci")

    users = json.loads(admin(live_server, "list-users", "--json").stdout)
    orgs = json.loads(admin(live_server, "list-orgs", "--json").stdout)
    tokens_result = admin(live_server, "list-tokens", name, "--json")
    tokens = json.loads(tokens_result.stdout)

    me = next(u for u in users if u["name"] == name)
    assert (me["email"], me["admin"], me["orgs"]) == ("l@example.test", True, org)
    assert next(o for o in orgs if o["name"] == org)["members"] == f"{name}:admin"
    assert [(t["name"], t["role"]) for t in tokens] == [("cli", "write"), ("ci", "read")]
    assert all(t["created"] for t in tokens)
    assert "hf_" not in tokens_result.stdout


def test_list_commands_print_tables(live_server: LiveServer) -> None:
    name = unique_name("table")
    admin(live_server, "create-user", name, "--fullname", "Table Person")

    users = admin(live_server, "list-users")
    tokens = admin(live_server, "list-tokens", name)

    assert users.exit_code == 0
    assert users.stdout.splitlines()[0].split() == ["NAME", "FULLNAME", "EMAIL", "ADMIN", "ORGS"]
    assert any(line.split()[:3] == [name, "Table", "Person"] for line in users.stdout.splitlines())
    assert tokens.stdout.splitlines()[1].split()[:2] == ["cli", "write"]


def test_site_admin_from_the_cli_can_write_in_any_namespace(
    live_server: LiveServer, user: HubUser
) -> None:
    token = admin(live_server, "create-user", unique_name("root"), "--admin").stdout.strip()
    api = HfApi(endpoint=live_server.url, token=token)

    repo_id = api.create_repo(f"{user.name}/{unique_name('by-admin')}").repo_id

    assert api.whoami()["isAdmin"] is True
    assert user.api.repo_info(repo_id).id == repo_id


def test_deleted_user_loses_access_and_cannot_be_deleted_twice(live_server: LiveServer) -> None:
    doomed = make_user(live_server, "doomed")

    deleted = admin(live_server, "delete-user", doomed.name, "--yes")

    assert deleted.exit_code == 0, deleted.output
    assert status_of(doomed.api) == 401
    users = json.loads(admin(live_server, "list-users", "--json").stdout)
    assert doomed.name not in {u["name"] for u in users}
    assert admin(live_server, "delete-user", doomed.name, "--yes").exit_code == 2


def test_delete_org_removes_it_and_unknown_org_exits_2(live_server: LiveServer) -> None:
    org = unique_name("org")
    admin(live_server, "create-org", org)

    deleted = admin(live_server, "delete-org", org)
    missing = admin(live_server, "delete-org", org)
    wrong_kind = admin(live_server, "delete-org", make_user(live_server).name)

    assert deleted.exit_code == 0, deleted.output
    assert org not in admin(live_server, "list-orgs", "--json").stdout
    assert missing.exit_code == 2
    assert wrong_kind.exit_code == 2


def test_admin_commands_read_hubstead_data_dir_and_create_a_fresh_hub(tmp_path: Path) -> None:
    runner = CliRunner(env={"HUBSTEAD_DATA_DIR": str(tmp_path / "hub")})

    created = runner.invoke(cli, ["admin", "create-user", "first", "--admin"])
    listed = runner.invoke(cli, ["admin", "list-users", "--json"])

    assert created.exit_code == 0, created.output
    assert (tmp_path / "hub" / "hubstead.sqlite3").exists()
    assert [u["name"] for u in json.loads(listed.stdout)] == ["first"]


def test_empty_listing_says_none_on_stderr(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["admin", "list-orgs", "--data-dir", str(tmp_path)])

    assert result.exit_code == 0
    assert (result.stdout, result.stderr.strip()) == ("", "(none)")


def test_org_settings_make_new_org_repos_private_unless_the_creator_says_otherwise(
    live_server: LiveServer, user: HubUser
) -> None:
    org = make_org(live_server, {user.name: Role.WRITE})

    shown = admin(live_server, "org-settings", org, "--json")
    changed = admin(live_server, "org-settings", org, "--private-by-default", "--json")
    user.api.create_repo(f"{org}/default")
    user.api.create_repo(f"{org}/public", private=False)
    user.api.create_repo(f"{user.name}/mine")

    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout) == {"name": org, "private_by_default": False}
    assert changed.exit_code == 0, changed.output
    assert json.loads(changed.stdout) == {"name": org, "private_by_default": True}
    assert user.api.repo_info(f"{org}/default").private is True
    assert user.api.repo_info(f"{org}/public").private is False
    assert user.api.repo_info(f"{user.name}/mine").private is False

    reset = admin(live_server, "org-settings", org, "--public-by-default")
    user.api.create_repo(f"{org}/after")
    assert reset.exit_code == 0, reset.output
    assert user.api.repo_info(f"{org}/after").private is False


def test_org_settings_of_an_unknown_org_exits_not_found(live_server: LiveServer) -> None:
    result = admin(live_server, "org-settings", "no-such-org-here", "--private-by-default")

    assert result.exit_code == 2
    assert "No organization named 'no-such-org-here'" in result.output


def test_set_password_refuses_unknown_users_short_passwords_and_a_missing_terminal(
    live_server: LiveServer,
) -> None:
    user = make_user(live_server, "pw")
    base = ["admin", "set-password", *storage_args(live_server)]

    unknown = CliRunner().invoke(
        cli,
        [*base[:2], "nobody-here", *base[2:], "--password-stdin"],
        input="long enough password\n",
    )
    short = CliRunner().invoke(
        cli, [*base[:2], user.name, *base[2:], "--password-stdin"], input="short\n"
    )
    no_terminal = CliRunner().invoke(cli, [*base[:2], user.name, *base[2:]], input="")
    done = CliRunner().invoke(
        cli, [*base[:2], user.name, *base[2:], "--password-stdin"], input="long enough password\n"
    )

    assert unknown.exit_code == 2 and "No user named 'nobody-here'" in unknown.output
    assert short.exit_code == 1 and "at least 8 characters" in short.output
    assert no_terminal.exit_code == 1 and "--password-stdin" in no_terminal.output
    assert done.exit_code == 0 and "signed out 0 session(s)" in done.output
