"""A Space's log pages: its writers read its build and run logs, and watch new lines come live.

The Spaces are built by the test and their apps run by the hub's local runner (tests/helpers/
space_apps.py); the echo app prints a line when a test asks it to (`/control/say`), which the
page then shows without a reload, in headless Chromium.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from hubstead.server.domain.spaces import SpaceStage
from tests.helpers.accounts import HubUser
from tests.helpers.live_server import ThreadedServer
from tests.helpers.space_apps import (
    UPSTREAM_FILES,
    build,
    committed_space,
    control,
    running_space,
)
from tests.helpers.spaces import space_hub
from tests.helpers.waiting import wait_until
from tests.web.conftest import (
    HOSTILE,
    PASSWORD,
    browser_client,
    sign_in_browser,
    signed_in_client,
    user_with_password,
    wait,
)

BUILT = "Build done; starting the app"
STARTED = "upstream app starting"


@pytest.fixture(scope="module")
def web_hub(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None
) -> Iterator[ThreadedServer]:
    """This module's hub: one that runs Spaces' apps, built when a test says so."""
    with space_hub(tmp_path_factory, database_url, "space-logs") as server:
        yield server


@pytest.fixture(scope="module")
def owner(web_hub: ThreadedServer) -> HubUser:
    return user_with_password(web_hub, "owner")


@pytest.fixture(scope="module")
def reader(web_hub: ThreadedServer) -> HubUser:
    """A signed-in user who may read the owner's public Spaces, and write to none."""
    return user_with_password(web_hub, "reader")


@pytest.fixture(scope="module")
def space(web_hub: ThreadedServer, owner: HubUser) -> str:
    """A public Space of the owner's, its echo app running."""
    return running_space(web_hub, owner, name="logged")


@pytest.fixture
def owner_client(web_hub: ThreadedServer, owner: HubUser) -> Iterator[httpx.Client]:
    with signed_in_client(web_hub, owner.name, PASSWORD) as client:
        yield client


def _say(web_hub: ThreadedServer, owner: HubUser, space: str, line: str) -> None:
    with control(web_hub, owner, space) as app:
        assert app.post("/control/say", params={"line": line}).json() == {"said": True}


def _page_with(client: httpx.Client, path: str, text: str) -> str:
    """The page at `path` once it has `text` (log lines reach the database within a second)."""

    def page() -> str | None:
        answer = client.get(path)
        assert answer.status_code == 200, answer.text
        return answer.text if text in answer.text else None

    return wait_until(page, f"{text!r} on {path}")


def _lines(browser: WebDriver) -> list[str]:
    return [node.text for node in browser.find_elements(By.CSS_SELECTOR, "#log .log-line")]


def _events(answer: httpx.Response, until: str) -> list[tuple[str, str, str]]:
    """A stream's events as (event, id, data), up to the first line whose text is `until`."""
    found: list[tuple[str, str, str]] = []
    fields: dict[str, str] = {}
    for raw in answer.iter_lines():
        if raw:
            name, _, value = raw.partition(": ")
            fields[name] = value
            continue
        if "data" in fields:
            event = (fields.get("event", "message"), fields.get("id", ""), fields["data"])
            found.append(event)
            if event[0] == "line" and json.loads(event[2])["text"] == until:
                return found
        fields = {}
    raise AssertionError(f"the stream ended without {until!r}: {found}")


def test_the_owner_watches_a_build_and_the_app_log_live(
    browser: WebDriver, web_hub: ThreadedServer, owner: HubUser
) -> None:
    fresh = committed_space(owner, UPSTREAM_FILES, name="watched")
    sign_in_browser(browser, web_hub, owner.name)
    browser.get(f"{web_hub.url}/spaces/{fresh}")
    browser.find_element(By.ID, "space-build-log").click()
    wait(browser).until(
        lambda d: d.find_element(By.ID, "log-follow").text == "Following new lines."
    )
    assert browser.current_url == f"{web_hub.url}/spaces/{fresh}/logs/build"
    assert browser.find_element(By.ID, "space-stage").text == SpaceStage.BUILDING.value
    assert browser.find_element(By.ID, "log-empty").is_displayed()
    browser.execute_script("window.stillTheSamePage = true;")

    assert build(web_hub, owner, fresh) == SpaceStage.RUNNING.value

    slow = wait(browser, 30)
    slow.until(lambda d: d.find_element(By.ID, "space-stage").text == SpaceStage.RUNNING.value)
    slow.until(lambda d: BUILT in _lines(d))
    assert not browser.find_element(By.ID, "log-empty").is_displayed()
    assert browser.execute_script("return window.stillTheSamePage;") is True

    browser.find_element(By.ID, "run-log-tab").click()
    slow.until(lambda d: STARTED in _lines(d))
    wait(browser).until(
        lambda d: d.find_element(By.ID, "log-follow").text == "Following new lines."
    )
    _say(web_hub, owner, fresh, "a line the app printed just now")
    _say(web_hub, owner, fresh, HOSTILE)
    slow.until(lambda d: _lines(d)[-2:] == ["a line the app printed just now", HOSTILE])
    assert browser.find_elements(By.CSS_SELECTOR, "#log script, #log img") == []


def test_a_log_page_shows_what_an_app_printed_as_text(
    web_hub: ThreadedServer, owner: HubUser, space: str, owner_client: httpx.Client
) -> None:
    _say(web_hub, owner, space, HOSTILE)
    page = _page_with(owner_client, f"/spaces/{space}/logs/run", "&lt;script&gt;alert(1)")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in page
    assert "<script>alert(1)" not in page
    assert "<img src=x" not in page
    assert STARTED in page
    assert 'id="space-stage" role="status">RUNNING<' in page


def test_the_build_log_page_shows_the_build(space: str, owner_client: httpx.Client) -> None:
    page = owner_client.get(f"/spaces/{space}/logs/build")
    assert page.status_code == 200
    assert BUILT in page.text
    assert f'href="/spaces/{space}/logs/run" id="run-log-tab"' in page.text


def test_the_space_page_links_its_writers_to_the_log_pages(
    web_hub: ThreadedServer, space: str, owner_client: httpx.Client, reader: HubUser
) -> None:
    page = owner_client.get(f"/spaces/{space}")
    assert f'href="/spaces/{space}/logs/build" id="space-build-log"' in page.text
    assert f'href="/spaces/{space}/logs/run" id="space-run-log"' in page.text
    with signed_in_client(web_hub, reader.name, PASSWORD) as client:
        page = client.get(f"/spaces/{space}")
    assert page.status_code == 200
    assert "space-build-log" not in page.text


def test_the_stream_sends_the_stage_then_the_lines_after_the_last_one_the_page_has(
    web_hub: ThreadedServer, owner: HubUser, space: str, owner_client: httpx.Client
) -> None:
    _say(web_hub, owner, space, "first of two")
    _page_with(owner_client, f"/spaces/{space}/logs/run", "first of two")
    events = f"/spaces/{space}/logs/run/events"
    headers = {"accept": "text/event-stream", "sec-fetch-site": "same-origin"}
    with owner_client.stream("GET", events, headers=headers) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        found = _events(answer, "first of two")
    assert found[0][0] == "stage"
    assert json.loads(found[0][2])["stage"] == SpaceStage.RUNNING.value
    texts = [json.loads(data)["text"] for kind, _, data in found if kind == "line"]
    assert texts[0] == STARTED
    first = found[-1][1]

    _say(web_hub, owner, space, "second of two")
    resumed = {**headers, "last-event-id": first}
    with owner_client.stream("GET", events, headers=resumed) as answer:
        found = _events(answer, "second of two")
    assert [kind for kind, _, _ in found] == ["stage", "line"]
    assert int(found[1][1]) > int(first)


def test_the_stream_ends_when_the_space_is_deleted(
    owner: HubUser, owner_client: httpx.Client
) -> None:
    doomed = committed_space(owner, {"app.py": b"print('soon gone')"}, name="doomed")
    headers = {"accept": "text/event-stream", "sec-fetch-site": "same-origin"}
    with owner_client.stream(
        "GET", f"/spaces/{doomed}/logs/build/events", headers=headers
    ) as answer:
        lines = answer.iter_lines()
        assert next(lines) == "event: stage"
        owner.api.delete_repo(doomed, repo_type="space")
        rest = list(lines)  # ends: the stream's next read finds no Space
    assert "event: line" not in rest


@pytest.mark.parametrize(
    "headers",
    [
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
        {"origin": "https://evil.example"},
        {"referer": "https://evil.example/page"},
    ],
)
def test_the_stream_answers_only_the_hubs_own_pages(
    space: str, owner_client: httpx.Client, headers: dict[str, str]
) -> None:
    answer = owner_client.get(f"/spaces/{space}/logs/run/events", headers=headers)
    assert answer.status_code == 403
    assert answer.json()["error"] == "Only this hub's own pages may read this"


def test_a_reader_who_may_not_write_to_the_space_is_refused(
    web_hub: ThreadedServer, space: str, reader: HubUser
) -> None:
    with signed_in_client(web_hub, reader.name, PASSWORD) as client:
        page = client.get(f"/spaces/{space}/logs/run")
        events = client.get(f"/spaces/{space}/logs/run/events")
    assert page.status_code == 403
    assert STARTED not in page.text
    assert events.status_code == 403
    assert STARTED not in events.text


def test_a_private_spaces_logs_are_not_found_by_others(
    web_hub: ThreadedServer, owner: HubUser, reader: HubUser, owner_client: httpx.Client
) -> None:
    private = committed_space(owner, {"app.py": b"print('private')"}, private=True)
    assert owner_client.get(f"/spaces/{private}/logs/build").status_code == 200
    with signed_in_client(web_hub, reader.name, PASSWORD) as client:
        assert client.get(f"/spaces/{private}/logs/build").status_code == 404
        assert client.get(f"/spaces/{private}/logs/build/events").status_code == 404
    with browser_client(web_hub) as anonymous:
        page = anonymous.get(f"/spaces/{private}/logs/build")
        assert page.status_code == 404
        assert anonymous.get(f"/spaces/{private}/logs/build/events").status_code in (401, 404)


def test_a_signed_out_visitor_is_sent_to_sign_in(web_hub: ThreadedServer, space: str) -> None:
    with browser_client(web_hub) as anonymous:
        page = anonymous.get(f"/spaces/{space}/logs/run")
        events = anonymous.get(f"/spaces/{space}/logs/run/events")
    assert page.status_code == 303
    assert (
        page.headers["location"]
        == f"/login?next=%2Fspaces%2F{space.replace('/', '%2F')}%2Flogs%2Frun"
    )
    assert events.status_code == 401
    assert STARTED not in events.text


def test_a_log_that_is_neither_build_nor_run_is_not_found(
    space: str, owner_client: httpx.Client
) -> None:
    assert owner_client.get(f"/spaces/{space}/logs/debug").status_code == 404
    assert owner_client.get(f"/spaces/{space}/logs/debug/events").status_code == 404


def test_a_stream_asked_for_after_no_line_number_is_refused(
    space: str, owner_client: httpx.Client
) -> None:
    answer = owner_client.get(f"/spaces/{space}/logs/run/events", params={"after": "-1"})
    assert answer.status_code == 400
    assert answer.json()["error"] == "'after' must be the number of a line of the log"
