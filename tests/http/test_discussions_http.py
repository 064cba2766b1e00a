"""The discussions API on the wire, with raw HTTP: envelopes, filters, shapes and bad input.

What huggingface_hub 2.4.0 reads (`get_repo_discussions`, `get_discussion_details`,
`deserialize_event`) is asserted field by field, for models, datasets and Spaces.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from hubstead.protocol import RepoType
from tests.helpers.accounts import HubUser
from tests.helpers.live_server import LiveServer
from tests.helpers.pull_requests import commit_to_pull_request

REPO_TYPES = ["model", "dataset", "space"]
EVENT_ID = re.compile(r"[0-9a-f]{24}")
ISO_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def threads(repo_type: str, repo_id: str) -> str:
    return f"/api/{repo_type}s/{repo_id}/discussions"


def open_thread(
    http: httpx.Client,
    repo_id: str,
    title: str = "A question",
    repo_type: str = "model",
    **body: Any,
) -> dict[str, Any]:
    response = http.post(threads(repo_type, repo_id), json={"title": title, **body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def details(
    http: httpx.Client, repo_id: str, num: int, repo_type: str = "model", **params: str
) -> dict[str, Any]:
    response = http.get(f"{threads(repo_type, repo_id)}/{num}", params=params)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def listing(http: httpx.Client, repo_id: str, **params: str) -> dict[str, Any]:
    response = http.get(threads("model", repo_id), params=params)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def nums(page: dict[str, Any]) -> list[int]:
    return [item["num"] for item in page["discussions"]]


def assert_refused(response: httpx.Response, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    assert message in response.headers["x-error-message"]
    assert message in response.json()["error"]


# --- listing ----------------------------------------------------------------------------------


def test_a_listing_pages_fifty_threads_at_a_time_newest_first(
    http: httpx.Client, repo: str
) -> None:
    for i in range(53):
        open_thread(http, repo, f"thread {i}")

    first = listing(http, repo)
    second = listing(http, repo, p="1")
    beyond = listing(http, repo, p="2")

    assert set(first) == {"discussions", "count", "start"}
    assert (first["count"], first["start"]) == (53, 0)
    assert nums(first) == list(range(53, 3, -1))
    assert (second["count"], second["start"]) == (53, 50)
    assert nums(second) == [3, 2, 1]
    assert (beyond["count"], beyond["start"], beyond["discussions"]) == (53, 100, [])


@pytest.mark.parametrize("repo_type", REPO_TYPES)
def test_a_listed_thread_has_what_the_client_reads(
    http: httpx.Client, repo_factory: Callable[..., str], user: HubUser, repo_type: str
) -> None:
    repo_id = repo_factory(repo_type)
    open_thread(http, repo_id, "Bug report", repo_type)

    response = http.get(threads(repo_type, repo_id))

    assert response.status_code == 200
    [item] = response.json()["discussions"]
    assert item["num"] == 1
    assert item["title"] == "Bug report"
    assert item["status"] == "open"
    assert item["isPullRequest"] is False
    assert item["author"] == {"name": user.name, "type": "user"}
    assert item["repo"] == {"name": repo_id, "type": repo_type}
    assert ISO_DATE.fullmatch(item["createdAt"])


def test_listing_filters_by_type_status_author_and_search(
    http: httpx.Client, repo: str, user: HubUser, other_user: HubUser, live_server: LiveServer
) -> None:
    open_thread(http, repo, "Loading fails on CPU")  # 1, open
    open_thread(http, repo, "Add a README", pullRequest=True)  # 2, draft PR
    open_thread(http, repo, "Typo in config")  # 3, closed below
    closed = http.post(f"{threads('model', repo)}/3/status", json={"status": "closed"})
    assert closed.status_code == 200, closed.text
    with httpx.Client(
        base_url=live_server.url, headers={"authorization": f"Bearer {other_user.token}"}
    ) as other:
        open_thread(other, repo, "Another question about cpu")  # 4, by someone else

    assert nums(listing(http, repo, type="discussion")) == [4, 3, 1]
    assert nums(listing(http, repo, type="pull_request")) == [2]
    assert nums(listing(http, repo, type="all")) == [4, 3, 2, 1]
    assert nums(listing(http, repo, status="open")) == [4, 2, 1]  # drafts count as open
    assert nums(listing(http, repo, status="closed")) == [3]
    assert nums(listing(http, repo, status="draft")) == [2]
    assert nums(listing(http, repo, status="all")) == [4, 3, 2, 1]
    assert nums(listing(http, repo, author=other_user.name)) == [4]
    assert nums(listing(http, repo, author=user.name)) == [3, 2, 1]
    assert listing(http, repo, author="nobody-by-this-name") == {
        "discussions": [],
        "count": 0,
        "start": 0,
    }
    assert nums(listing(http, repo, search="CPU")) == [4, 1]  # titles, ignoring case
    page = listing(http, repo, search="cpu", type="discussion", status="open")
    assert (nums(page), page["count"]) == ([4, 1], 2)


def test_recently_updated_sorts_by_latest_activity(http: httpx.Client, repo: str) -> None:
    for i in range(3):
        open_thread(http, repo, f"thread {i}")
    commented = http.post(f"{threads('model', repo)}/1/comment", json={"comment": "bump"})
    assert commented.status_code == 200, commented.text

    assert nums(listing(http, repo, sort="recently-created")) == [3, 2, 1]
    assert nums(listing(http, repo, sort="recently-updated")) == [1, 3, 2]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"p": "-1"}, "'p' must be a page index"),
        ({"p": "one"}, "'p' must be a page index"),
        ({"p": "1.5"}, "'p' must be a page index"),
        ({"p": "99999999999"}, "'p' must be a page index"),
        ({"type": "issue"}, "Invalid type 'issue'"),
        ({"status": "pending"}, "Invalid status 'pending'"),
        ({"sort": "trending"}, "Invalid sort 'trending'"),
    ],
)
def test_bad_listing_parameters_are_400(
    http: httpx.Client, repo: str, params: dict[str, str], message: str
) -> None:
    assert_refused(http.get(threads("model", repo), params=params), 400, message)


# --- details ----------------------------------------------------------------------------------


@pytest.mark.parametrize("repo_type", REPO_TYPES)
def test_details_of_a_discussion_hold_its_timeline(
    http: httpx.Client, repo_factory: Callable[..., str], user: HubUser, repo_type: str
) -> None:
    repo_id = repo_factory(repo_type)
    open_thread(http, repo_id, "Question", repo_type, description="How do I *load* it?")

    found = details(http, repo_id, 1, repo_type)

    assert found["num"] == 1
    assert found["title"] == "Question"
    assert found["status"] == "open"
    assert found["isPullRequest"] is False
    assert found["author"] == {"name": user.name, "type": "user"}
    assert found["repo"] == {"name": repo_id, "type": repo_type}
    assert "changes" not in found
    assert "filesWithConflicts" not in found
    [event] = found["events"]
    assert EVENT_ID.fullmatch(event["id"])
    assert event["type"] == "comment"
    assert event["author"] == {"name": user.name, "type": "user"}
    assert ISO_DATE.fullmatch(event["createdAt"])
    assert event["data"]["latest"]["raw"] == "How do I *load* it?"
    assert event["data"]["latest"]["html"] == "<p>How do I <em>load</em> it?</p>\n"
    assert event["data"]["edited"] is False
    assert event["data"]["hidden"] is False
    assert event["data"]["numEdits"] == 0
    assert event["data"]["history"] == []


@pytest.mark.parametrize("repo_type", REPO_TYPES)
def test_details_of_a_pull_request_hold_its_base_conflicts_and_diff(
    http: httpx.Client,
    repo_factory: Callable[..., str],
    user: HubUser,
    live_server: LiveServer,
    repo_type: str,
) -> None:
    repo_id = repo_factory(repo_type)
    created = open_thread(http, repo_id, "Add weights", repo_type, pullRequest=True)
    assert created["isPullRequest"] is True
    assert created["status"] == "draft"
    commit = commit_to_pull_request(
        user, repo_id, 1, {"notes.txt": b"hello\n"}, RepoType(repo_type)
    )

    without = details(http, repo_id, 1, repo_type)
    found = details(http, repo_id, 1, repo_type, diff="1")

    assert "diff" not in without
    assert found["changes"] == {"base": "refs/heads/main"}
    assert found["filesWithConflicts"] == []
    assert "+++ b/notes.txt" in found["diff"]
    assert "+hello" in found["diff"]
    commits = [e for e in found["events"] if e["type"] == "commit"]
    assert [c["data"] for c in commits] == [
        {"subject": "change on the pull request", "oid": commit}
    ]
    assert all(EVENT_ID.fullmatch(e["id"]) for e in found["events"])


# --- comments rendered safely -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("markdown", "absent", "present"),
    [
        ("<script>alert(1)</script>", "<script", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ('<img src=x onerror="alert(1)">', "<img", "&lt;img src=x"),
        ("[click](javascript:alert(1))", 'href="javascript:', "click"),
        ("[click](JAVASCRIPT:alert(1))", 'href="JAVASCRIPT:', "click"),
        ("![x](javascript:alert(1))", 'src="javascript:', "x"),
        ("[ok](https://example.com/a)", "<script", '<a href="https://example.com/a">ok</a>'),
    ],
)
def test_comments_are_rendered_with_html_escaped_and_script_links_dropped(
    http: httpx.Client, repo: str, markdown: str, absent: str, present: str
) -> None:
    open_thread(http, repo)
    response = http.post(f"{threads('model', repo)}/1/comment", json={"comment": markdown})
    assert response.status_code == 200, response.text
    message = response.json()["newMessage"]

    stored = details(http, repo, 1)["events"][-1]

    for event in (message, stored):
        assert event["data"]["latest"]["raw"] == markdown
        html = event["data"]["latest"]["html"]
        assert absent.lower() not in html.lower()
        assert present in html


# --- creating ---------------------------------------------------------------------------------


@pytest.mark.parametrize("repo_type", REPO_TYPES)
def test_creating_answers_201_with_the_number_and_url(
    http: httpx.Client, repo_factory: Callable[..., str], live_server: LiveServer, repo_type: str
) -> None:
    repo_id = repo_factory(repo_type)

    first = http.post(threads(repo_type, repo_id), json={"title": "First"})
    second = http.post(threads(repo_type, repo_id), json={"title": "Second", "pullRequest": True})

    assert first.status_code == 201
    assert second.status_code == 201
    assert (first.json()["num"], second.json()["num"]) == (1, 2)
    prefix = RepoType(repo_type).url_prefix
    assert second.json()["url"] == f"{live_server.url}/{prefix}{repo_id}/discussions/2"


@pytest.mark.parametrize(
    "title", ["abc", "  abc  ", "x" * 200, "<b>bold</b> & <script>x</script>", "**markup**"]
)
def test_titles_of_3_to_200_characters_are_stored_verbatim_after_stripping(
    http: httpx.Client, repo: str, title: str
) -> None:
    created = open_thread(http, repo, title)

    assert created["title"] == title.strip()
    assert details(http, repo, created["num"])["title"] == title.strip()


@pytest.mark.parametrize(("title", "length"), [("ab", 2), ("  ab   ", 2), ("x" * 201, 201)])
def test_titles_out_of_bounds_are_400_and_create_nothing(
    http: httpx.Client, repo: str, title: str, length: int
) -> None:
    response = http.post(threads("model", repo), json={"title": title})

    assert_refused(response, 400, f"A title must be 3 to 200 characters long, not {length}")
    assert listing(http, repo)["count"] == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "'title' must be a string"),
        ({"title": 3}, "'title' must be a string"),
        ({"title": "Fine", "pullRequest": "yes"}, "'pullRequest' must be true or false"),
        ({"title": "Fine", "description": ["x"]}, "'description' must be a string"),
    ],
)
def test_malformed_creation_bodies_are_400(
    http: httpx.Client, repo: str, body: dict[str, Any], message: str
) -> None:
    assert_refused(http.post(threads("model", repo), json=body), 400, message)


# --- commenting -------------------------------------------------------------------------------


@pytest.mark.parametrize("comment", ["", "   \n\t"])
def test_an_empty_comment_is_400(http: httpx.Client, repo: str, comment: str) -> None:
    open_thread(http, repo)

    response = http.post(f"{threads('model', repo)}/1/comment", json={"comment": comment})

    assert_refused(response, 400, "The comment must not be empty")
    assert len(details(http, repo, 1)["events"]) == 1


def test_a_comment_over_65536_characters_is_413_and_one_of_65536_is_taken(
    http: httpx.Client, repo: str
) -> None:
    open_thread(http, repo)
    url = f"{threads('model', repo)}/1/comment"

    too_long = http.post(url, json={"comment": "é" * 65537})
    longest = http.post(url, json={"comment": "é" * 65536})

    assert_refused(too_long, 413, "65537 characters long, more than the 65536 allowed")
    assert longest.status_code == 200, longest.text
    assert [len(e["data"]["latest"]["raw"]) for e in details(http, repo, 1)["events"]] == [
        len("Discussion opened by its author"),
        65536,
    ]


def test_a_description_over_65536_characters_is_413(http: httpx.Client, repo: str) -> None:
    response = http.post(threads("model", repo), json={"title": "Long", "description": "x" * 65537})

    assert_refused(response, 413, "The description is 65537 characters long")
    assert listing(http, repo)["count"] == 0


# --- what does not exist ----------------------------------------------------------------------


@pytest.mark.parametrize("num", ["7", "0", "abc", "-1", "01", "9999999999", "99999999999"])
@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("POST", "/comment", {"comment": "hello"}),
        ("POST", "/title", {"title": "New title"}),
        ("POST", "/status", {"status": "closed"}),
        ("POST", "/merge", {}),
    ],
)
def test_an_unknown_discussion_number_is_404(
    http: httpx.Client,
    repo: str,
    num: str,
    method: str,
    suffix: str,
    body: dict[str, Any] | None,
) -> None:
    open_thread(http, repo)

    response = http.request(method, f"{threads('model', repo)}/{num}{suffix}", json=body)

    assert response.status_code == 404, response.text
    assert "x-error-code" not in response.headers  # the repo is there: the thread is not
    assert f"{repo} has no discussion #" in response.headers["x-error-message"]


@pytest.mark.parametrize("comment_id", ["0" * 24, "f" * 24, "not-an-id", "abc"])
@pytest.mark.parametrize(("action", "body"), [("edit", {"content": "new"}), ("hide", None)])
def test_an_unknown_comment_id_is_404(
    http: httpx.Client, repo: str, comment_id: str, action: str, body: dict[str, str] | None
) -> None:
    open_thread(http, repo)

    response = http.post(f"{threads('model', repo)}/1/comment/{comment_id}/{action}", json=body)

    assert response.status_code == 404, response.text


def test_a_comment_of_another_thread_is_404(http: httpx.Client, repo: str) -> None:
    open_thread(http, repo, "First")
    open_thread(http, repo, "Second")
    first_comment = details(http, repo, 1)["events"][0]["id"]

    response = http.post(
        f"{threads('model', repo)}/2/comment/{first_comment}/edit", json={"content": "moved"}
    )

    assert response.status_code == 404, response.text
    assert details(http, repo, 1)["events"][0]["data"]["latest"]["raw"] != "moved"


def test_a_status_change_or_merge_of_a_discussion_says_what_is_wrong(
    http: httpx.Client, repo: str
) -> None:
    open_thread(http, repo)
    url = f"{threads('model', repo)}/1"

    assert_refused(http.post(f"{url}/status", json={"status": "merged"}), 400, "Invalid status")
    assert_refused(http.post(f"{url}/status", json={"status": "open"}), 400, "#1 is already open")
    assert_refused(http.post(f"{url}/merge", json={}), 400, "#1 is a discussion, not a pull")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "abc", None),
        ("GET", "0", None),
        ("POST", "abc/comment", {"comment": "hello"}),
        ("POST", "1/comment/not-an-id/edit", {"content": "new"}),
        ("POST", "1/comment/" + "0" * 24 + "/hide", None),
    ],
)
def test_a_private_repo_is_not_found_before_a_malformed_number_or_comment_id(
    http: httpx.Client,
    repo_factory: Callable[..., str],
    live_server: LiveServer,
    method: str,
    path: str,
    body: dict[str, str] | None,
) -> None:
    private = repo_factory(private=True)
    open_thread(http, private)

    with httpx.Client(base_url=live_server.url) as anonymous:
        response = anonymous.request(method, f"{threads('model', private)}/{path}", json=body)

    assert response.status_code == 401, response.text
    assert response.headers["x-error-code"] == "RepoNotFound"


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("", {"title": "a\x00bc"}, "The title must not contain NUL characters"),
        ("", {"title": "Fine", "description": "x\x00"}, "The description must not contain NUL"),
        ("/1/comment", {"comment": "x\x00y"}, "The comment must not contain NUL characters"),
        ("/1/title", {"title": "New\x00title"}, "The title must not contain NUL characters"),
        ("/1/status", {"status": "closed", "comment": "\x00"}, "The comment must not contain"),
    ],
)
def test_nul_characters_are_400_on_every_database(
    http: httpx.Client, repo: str, path: str, body: dict[str, str], message: str
) -> None:
    open_thread(http, repo, "Original")

    response = http.post(f"{threads('model', repo)}{path}", json=body)

    assert_refused(response, 400, message)
    thread = details(http, repo, 1)
    assert (thread["title"], thread["status"], len(thread["events"])) == ("Original", "open", 1)
    assert listing(http, repo)["count"] == 1


def test_a_nul_character_in_an_edit_is_400(http: httpx.Client, repo: str) -> None:
    open_thread(http, repo, description="before")
    comment_id = details(http, repo, 1)["events"][0]["id"]

    response = http.post(
        f"{threads('model', repo)}/1/comment/{comment_id}/edit", json={"content": "a\x00"}
    )

    assert_refused(response, 400, "The comment must not contain NUL characters")
    assert details(http, repo, 1)["events"][0]["data"]["latest"]["raw"] == "before"


@pytest.mark.parametrize("name", ["search", "author"])
def test_a_nul_character_in_a_listing_filter_is_400(
    http: httpx.Client, repo: str, name: str
) -> None:
    response = http.get(threads("model", repo), params={name: "a\x00"})

    assert_refused(response, 400, f"Query parameter {name!r} must not contain NUL")


def test_threads_opened_at_once_get_distinct_consecutive_numbers(
    live_server: LiveServer, user: HubUser, repo: str
) -> None:
    count = 8
    start = threading.Barrier(count)
    statuses: list[int] = []

    def create(i: int) -> None:
        with httpx.Client(
            base_url=live_server.url, headers={"authorization": f"Bearer {user.token}"}
        ) as http:
            start.wait()
            response = http.post(
                threads("model", repo), json={"title": f"thread {i}", "pullRequest": i % 2 == 0}
            )
            statuses.append(response.status_code)

    workers = [threading.Thread(target=create, args=(i,)) for i in range(count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert statuses == [201] * count
    with httpx.Client(
        base_url=live_server.url, headers={"authorization": f"Bearer {user.token}"}
    ) as http:
        page = listing(http, repo)
    assert nums(page) == list(range(count, 0, -1))
    refs = user.api.list_repo_refs(repo, include_pull_requests=True).pull_requests or []
    pulls = [item["num"] for item in page["discussions"] if item["isPullRequest"]]
    assert sorted(ref.ref for ref in refs) == sorted(f"refs/pr/{num}" for num in pulls)
