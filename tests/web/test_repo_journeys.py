"""Journeys in headless Chromium through a repo: its page, a file, another branch, a commit."""

from __future__ import annotations

from huggingface_hub import CommitOperationAdd
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec

from tests.helpers.accounts import make_user, unique_name
from tests.helpers.live_server import LiveServer
from tests.web.conftest import wait


def test_open_a_repo_a_file_another_branch_and_a_commit(
    browser: WebDriver, web_hub: LiveServer
) -> None:
    owner = make_user(web_hub, "journey")
    repo_id = owner.api.create_repo(f"{owner.name}/{unique_name('tour')}").repo_id
    owner.api.create_commit(
        repo_id,
        [
            CommitOperationAdd("README.md", b"# Tour\n\nA model to look around.\n"),
            CommitOperationAdd("src/run.py", b"print('main')\n"),
        ],
        commit_message="Add the runner",
    )
    owner.api.create_branch(repo_id, branch="feature")
    owner.api.upload_file(
        path_or_fileobj=b"print('feature')\n",
        path_in_repo="src/run.py",
        repo_id=repo_id,
        revision="feature",
        commit_message="Run the feature",
    )

    browser.get(f"{web_hub.url}/{repo_id}")
    card = wait(browser).until(ec.presence_of_element_located((By.ID, "card")))
    assert "A model to look around." in card.text

    browser.find_element(By.LINK_TEXT, "src/").click()
    wait(browser).until(ec.presence_of_element_located((By.LINK_TEXT, "run.py"))).click()
    code = wait(browser).until(ec.presence_of_element_located((By.ID, "code")))
    assert "print('main')" in code.text

    browser.find_element(By.CSS_SELECTOR, "#switcher summary").click()
    browser.find_element(By.CSS_SELECTOR, 'a[data-ref="feature"]').click()
    wait(browser).until(ec.url_to_be(f"{web_hub.url}/{repo_id}/tree/feature"))
    assert browser.find_element(By.CSS_SELECTOR, "#switcher summary").text == "feature"

    browser.find_element(By.ID, "commits-tab").click()
    wait(browser).until(ec.presence_of_element_located((By.LINK_TEXT, "Run the feature"))).click()
    title = wait(browser).until(ec.presence_of_element_located((By.ID, "commit-title")))
    assert title.text == "Run the feature"
    added = browser.find_element(By.CSS_SELECTOR, ".diff-lines .add")
    assert added.text == "+print('feature')"
