"""A Space's page embeds its app, with its stage; a static Space works sandboxed in Chromium.

The Spaces are built by the test and their apps run by the hub's local runner (tests/helpers/
space_apps.py); the static Space's files are served by the hub itself, and its script runs in
the headless browser.
"""

from __future__ import annotations

import html
from collections.abc import Iterator

import httpx
import pytest
from huggingface_hub import CommitOperationAdd
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from hubstead.server.domain.spaces import SpaceStage
from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.live_server import LiveServer, ThreadedServer
from tests.helpers.space_apps import GRADIO_APP, build, committed_space, running_space
from tests.helpers.spaces import space_hub
from tests.web.conftest import wait

# What the page's script finds out about where it runs: it must run, and it must not reach
# the hub's cookies or read the hub's API as the visitor (the sandbox's opaque origin).
SITE = b"""<!doctype html>
<title>A static Space</title>
<h1 id="greeting">Hello from a static Space</h1>
<p id="script">script did not run</p>
<p id="cookies">cookies not tried</p>
<p id="hub">hub not tried</p>
<script>
document.getElementById("script").textContent = "script ran";
try { document.cookie; document.getElementById("cookies").textContent = "cookies readable"; }
catch (e) { document.getElementById("cookies").textContent = "cookies out of reach"; }
fetch("/api/whoami-v2", {credentials: "include"})
  .then(function (r) { return r.text(); })
  .then(function () { document.getElementById("hub").textContent = "hub readable"; })
  .catch(function () { document.getElementById("hub").textContent = "hub out of reach"; });
</script>
"""


@pytest.fixture(scope="module")
def web_hub(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None
) -> Iterator[ThreadedServer]:
    """This module's hub: one that runs Spaces' apps, built when a test says so."""
    with space_hub(tmp_path_factory, database_url, "space-pages") as server:
        yield server


@pytest.fixture(scope="module")
def owner(web_hub: LiveServer) -> HubUser:
    return make_user(web_hub, "owner")


@pytest.fixture(scope="module")
def static_space(web_hub: ThreadedServer, owner: HubUser) -> str:
    space = f"{owner.name}/{unique_name('site')}"
    owner.api.create_repo(space, repo_type="space", space_sdk="static")
    owner.api.create_commit(
        space,
        repo_type="space",
        commit_message="a site",
        operations=[
            CommitOperationAdd("README.md", b"---\nsdk: static\n---\n# The site\n"),
            CommitOperationAdd("index.html", SITE),
        ],
    )
    assert build(web_hub, owner, space) == SpaceStage.RUNNING.value
    return space


def test_a_static_spaces_page_embeds_it_and_its_script_runs_sandboxed(
    browser: WebDriver, web_hub: LiveServer, static_space: str
) -> None:
    browser.get(f"{web_hub.url}/spaces/{static_space}")
    assert browser.find_element(By.ID, "space-stage").text == "RUNNING"
    frame = browser.find_element(By.ID, "space-frame")
    assert frame.get_attribute("src") == f"{web_hub.url}/spaces/{static_space}/app/"
    browser.switch_to.frame(frame)
    try:
        assert browser.find_element(By.ID, "greeting").text == "Hello from a static Space"
        wait(browser).until(lambda d: d.find_element(By.ID, "hub").text != "hub not tried")
        assert browser.find_element(By.ID, "script").text == "script ran"
        assert browser.find_element(By.ID, "cookies").text == "cookies out of reach"
        assert browser.find_element(By.ID, "hub").text == "hub out of reach"
    finally:
        browser.switch_to.default_content()


def test_a_space_that_failed_shows_its_stage_and_error(
    web_hub: ThreadedServer, owner: HubUser
) -> None:
    space = committed_space(
        owner, {"app.py": b"import gradio", "requirements.txt": b"nothing==9\n"}, name="broken"
    )
    assert build(web_hub, owner, space) == SpaceStage.BUILD_ERROR.value
    error = owner.api.get_space_runtime(space).raw["errorMessage"]
    page = httpx.get(f"{web_hub.url}/spaces/{space}", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert 'id="space-stage">BUILD_ERROR<' in page.text
    assert "nothing" in error, error
    assert html.escape(error.partition("\n")[0], quote=False) in page.text
    assert f'src="/spaces/{space}/app/"' in page.text
    assert "space-build-log" not in page.text  # its logs are for its writers


def test_a_model_page_has_no_app(web_hub: LiveServer, owner: HubUser) -> None:
    model = f"{owner.name}/{unique_name('model')}"
    owner.api.create_repo(model)
    page = httpx.get(f"{web_hub.url}/{model}", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "space-frame" not in page.text


def test_a_gradio_app_works_in_its_spaces_page(
    browser: WebDriver, web_hub: ThreadedServer, owner: HubUser
) -> None:
    space = running_space(web_hub, owner, {"app.py": GRADIO_APP}, name="gradio")
    browser.get(f"{web_hub.url}/spaces/{space}")
    browser.switch_to.frame(browser.find_element(By.ID, "space-frame"))
    try:
        slow = WebDriverWait(browser, 60)
        slow.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#name textarea"))
        browser.find_element(By.CSS_SELECTOR, "#name textarea").send_keys("browser")
        browser.find_element(By.ID, "greet").click()
        output = "#greeting textarea"
        slow.until(lambda d: d.find_element(By.CSS_SELECTOR, output).get_attribute("value"))
        assert browser.find_element(By.CSS_SELECTOR, output).get_attribute("value") == (
            "Hello browser!"
        )
    finally:
        browser.switch_to.default_content()
