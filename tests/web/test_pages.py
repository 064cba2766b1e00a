"""The web hub over plain HTTP: headers, escaping, CSRF, sessions, limits, and not-found pages."""

from __future__ import annotations

import httpx
import pytest

from hubstead.server.domain.accounts import Role
from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.live_server import LiveServer, start_server
from tests.web.conftest import HOSTILE, browser_client, csrf_of, set_password, signed_in_client


@pytest.mark.parametrize("path", ["/", "/login", "/search?q=x", "/no/such/page/here"])
def test_every_page_carries_the_security_headers(web_hub: LiveServer, path: str) -> None:
    with browser_client(web_hub) as client:
        page = client.get(path)

    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "same-origin"
    assert "<script>" not in page.text.replace('<script src="/static/hub.js', "")


def test_static_files_are_cached_for_a_year_by_version(web_hub: LiveServer) -> None:
    with browser_client(web_hub) as client:
        home = client.get("/")
        css_url = home.text.split('<link rel="stylesheet" href="')[1].split('"')[0]
        current = client.get(css_url)
        unversioned = client.get("/static/hub.css")
        missing = client.get("/static/nope.css")

    assert current.status_code == 200
    assert current.headers["content-type"].startswith("text/css")
    assert current.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert unversioned.headers["cache-control"] == "no-cache"
    assert missing.status_code == 404


def test_unknown_paths_are_a_page_for_browsers_and_json_for_the_api(web_hub: LiveServer) -> None:
    with httpx.Client(base_url=web_hub.url) as client:
        page = client.get("/no/such/page/here", headers={"accept": "text/html"})
        plain = client.get("/no/such/page/here")
        api = client.get("/api/no-such-endpoint", headers={"accept": "text/html"})

    assert page.status_code == 404 and "There is nothing at this address" in page.text
    assert plain.status_code == 404 and plain.json() == {"error": "Not Found"}
    assert api.status_code == 404 and api.headers["x-error-code"] == "EndpointNotFound"


def test_hostile_names_are_escaped_in_search_results_and_token_lists(
    web_hub: LiveServer, web_user: tuple[HubUser, str]
) -> None:
    user, password = web_user
    name = unique_name("hostile")
    web_hub.services.auth.create_user(name, fullname=HOSTILE, is_admin=False)
    web_hub.services.auth.create_token(user.name, Role.READ, name=HOSTILE)

    with signed_in_client(web_hub, user.name, password) as client:
        search = client.get("/search", params={"q": name})
        reflected = client.get("/search", params={"q": HOSTILE})
        tokens = client.get("/settings/tokens")

    for page in (search, reflected, tokens):
        assert page.status_code == 200
        assert "<script>alert(1)" not in page.text
        assert "<img src=x" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_forged_posts_are_refused_and_change_nothing(
    web_hub: LiveServer, web_user: tuple[HubUser, str]
) -> None:
    user, password = web_user
    with signed_in_client(web_hub, user.name, password) as client:
        token = csrf_of(client.get("/settings/tokens"))
        fields = {"name": "forged", "role": "write"}
        missing = client.post("/settings/tokens", data=fields)
        wrong = client.post("/settings/tokens", data={**fields, "csrf_token": "0" * 64})
        elsewhere = client.post(
            "/settings/tokens",
            data={**fields, "csrf_token": token},
            headers={"origin": "https://evil.example"},
        )
        logout = client.post(
            "/logout", data={"csrf_token": ""}, headers={"origin": "https://evil.example"}
        )
        still_in = client.get("/settings/tokens")
        genuine = client.post(
            "/settings/tokens",
            data={"name": "genuine", "role": "read", "csrf_token": token},
            headers={"origin": web_hub.url},
        )

    for refused in (missing, wrong, elsewhere, logout):
        assert refused.status_code == 403
        assert "did not come from this hub" in refused.text
    assert still_in.status_code == 200
    assert genuine.status_code == 200 and "genuine" in genuine.text
    names = [t.name for t in web_hub.services.auth.list_tokens(user.name)]
    assert "forged" not in names and "genuine" in names


def test_a_token_from_another_browser_does_not_pass_the_csrf_check(
    web_hub: LiveServer, web_user: tuple[HubUser, str]
) -> None:
    user, password = web_user
    with (
        signed_in_client(web_hub, user.name, password) as victim,
        browser_client(web_hub) as attacker,
    ):
        attacker_token = csrf_of(attacker.get("/login"))
        forged = victim.post(
            "/settings/tokens",
            data={"name": "forged", "role": "write", "csrf_token": attacker_token},
        )

    assert forged.status_code == 403


def test_signing_out_ends_the_session_on_the_server(
    web_hub: LiveServer, web_user: tuple[HubUser, str]
) -> None:
    user, password = web_user
    with signed_in_client(web_hub, user.name, password) as client:
        cookie = client.cookies["hubstead_session"]
        token = csrf_of(client.get("/"))
        client.post("/logout", data={"csrf_token": token})
    with browser_client(web_hub) as replay:
        replay.cookies.set("hubstead_session", cookie)
        page = replay.get("/settings/tokens")

    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?next=")


def test_changing_the_password_ends_every_other_session(
    web_hub: LiveServer, web_user: tuple[HubUser, str]
) -> None:
    user, password = web_user
    with (
        signed_in_client(web_hub, user.name, password) as here,
        signed_in_client(web_hub, user.name, password) as elsewhere,
    ):
        token = csrf_of(here.get("/settings/password"))
        fields = {"csrf_token": token, "current_password": password}
        wrong = here.post(
            "/settings/password",
            data={
                **fields,
                "current_password": "nope",
                "new_password": "n3w password",
                "confirm_password": "n3w password",
            },
        )
        short = here.post(
            "/settings/password",
            data={**fields, "new_password": "short", "confirm_password": "short"},
        )
        changed = here.post(
            "/settings/password",
            data={**fields, "new_password": "n3w password", "confirm_password": "n3w password"},
        )
        here_after = here.get("/settings/password?changed=1")
        elsewhere_after = elsewhere.get("/settings/tokens")

    assert wrong.status_code == 401 and "The current password is wrong" in wrong.text
    assert short.status_code == 400 and "at least 8 characters" in short.text
    assert changed.status_code == 303
    assert here_after.status_code == 200 and "password-changed" in here_after.text
    assert elsewhere_after.status_code == 303
    with signed_in_client(web_hub, user.name, "n3w password") as again:
        assert again.get("/settings/tokens").status_code == 200


def test_guessing_the_current_password_from_a_session_is_limited(
    web_hub: LiveServer, web_user: tuple[HubUser, str]
) -> None:
    user, password = web_user
    limit = web_hub.settings.sign_in_account_attempts
    change = {"new_password": "n3w password", "confirm_password": "n3w password"}
    with (
        signed_in_client(web_hub, user.name, password) as thief,
        signed_in_client(web_hub, user.name, password) as owner,
    ):
        token = csrf_of(thief.get("/settings/password"))
        guesses = [
            thief.post(
                "/settings/password",
                data={"csrf_token": token, "current_password": f"guess {n}", **change},
            ).status_code
            for n in range(limit)
        ]
        right = thief.post(
            "/settings/password",
            data={"csrf_token": token, "current_password": password, **change},
        )
        owner_after = owner.get("/settings/tokens")

    assert guesses == [401] * limit
    assert right.status_code == 429 and "Too many wrong passwords" in right.text
    assert "current_password" in right.text  # the form again, to try later
    assert owner_after.status_code == 200  # the password did not change: no session ended


def test_setting_a_password_from_the_cli_signs_the_user_out(
    web_hub: LiveServer, web_user: tuple[HubUser, str]
) -> None:
    user, password = web_user
    with signed_in_client(web_hub, user.name, password) as client:
        said = set_password(web_hub, user.name, "another password")
        page = client.get("/settings/tokens")

    assert "signed out 1 session(s)" in said
    assert page.status_code == 303


def test_failed_sign_ins_to_one_account_are_limited_even_for_the_right_password(
    web_hub: LiveServer, web_user: tuple[HubUser, str]
) -> None:
    user, password = web_user
    limit = web_hub.settings.sign_in_account_attempts
    with browser_client(web_hub) as client:
        token = csrf_of(client.get("/login"))
        answers = [
            client.post(
                "/login", data={"csrf_token": token, "username": user.name, "password": "bad"}
            ).status_code
            for _ in range(limit)
        ]
        limited = client.post(
            "/login", data={"csrf_token": token, "username": user.name, "password": password}
        )

    assert answers == [401] * limit
    assert limited.status_code == 429
    assert "Too many failed sign-ins" in limited.text
    assert "hubstead_session" not in limited.cookies


def test_failed_sign_ins_from_one_address_are_limited(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None
) -> None:
    server = start_server(
        tmp_path_factory.mktemp("limited"), database_url, sign_in_address_attempts=3
    )
    try:
        user = make_user(server, "limited")
        set_password(server, user.name, "right password")
        with browser_client(server) as client:
            token = csrf_of(client.get("/login"))
            answers = [
                client.post(
                    "/login",
                    data={"csrf_token": token, "username": unique_name("nobody"), "password": "x"},
                ).status_code
                for _ in range(3)
            ]
            by_token = client.post("/login", data={"csrf_token": token, "token": user.token})
    finally:
        server.stop()

    assert answers == [401, 401, 401]
    assert by_token.status_code == 429


def test_private_repos_appear_only_to_those_who_may_see_them(
    web_hub: LiveServer, web_user: tuple[HubUser, str]
) -> None:
    owner, password = web_user
    stranger = make_user(web_hub, "stranger")
    set_password(web_hub, stranger.name, "stranger password")
    hidden = owner.api.create_repo(f"{owner.name}/{unique_name('secret')}", private=True).repo_id
    shown = owner.api.create_repo(f"{owner.name}/{unique_name('public')}").repo_id

    with (
        signed_in_client(web_hub, owner.name, password) as mine,
        signed_in_client(web_hub, stranger.name, "stranger password") as theirs,
        browser_client(web_hub) as nobody,
    ):
        for client, sees_hidden in ((mine, True), (theirs, False), (nobody, False)):
            home = client.get("/").text
            found = client.get("/search", params={"q": owner.name}).text
            assert (hidden in home) is sees_hidden and (hidden in found) is sees_hidden
            assert shown in home and shown in found
