"""Journeys in headless Chromium: a pull request made in the browser and merged; moderation."""

from __future__ import annotations

from pathlib import Path

from huggingface_hub import CommitOperationAdd, hf_hub_download
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec

from tests.helpers.accounts import unique_name
from tests.helpers.live_server import LiveServer
from tests.web.conftest import sign_in_browser, user_with_password, wait


def test_edit_a_readme_open_a_pull_request_and_merge_it(
    browser: WebDriver, web_hub: LiveServer, tmp_path: Path
) -> None:
    owner = user_with_password(web_hub, "maintainer")
    contributor = user_with_password(web_hub, "contributor")
    repo_id = owner.api.create_repo(f"{owner.name}/{unique_name('card')}").repo_id
    owner.api.create_commit(
        repo_id,
        [CommitOperationAdd("README.md", b"# Card\n\nOld words.\n")],
        commit_message="Start",
    )

    sign_in_browser(browser, web_hub, contributor.name)
    browser.get(f"{web_hub.url}/{repo_id}")
    wait(browser).until(ec.element_to_be_clickable((By.ID, "edit-readme"))).click()
    editor = wait(browser).until(ec.presence_of_element_located((By.ID, "file-content")))
    assert "Old words." in (editor.get_attribute("value") or "")
    assert not browser.find_elements(By.ID, "target-commit")  # not a writer: pull request only
    editor.clear()
    editor.send_keys("# Card\n\nNew words from the browser.\n")
    browser.find_element(By.ID, "commit-summary").send_keys("Better words")
    assert browser.find_element(By.ID, "target-pr").is_selected()
    browser.find_element(By.ID, "commit-button").click()

    title = wait(browser).until(ec.presence_of_element_located((By.ID, "thread-title")))
    assert title.text.startswith("Better words")
    pr_url = browser.current_url
    browser.find_element(By.ID, "files-changed-tab").click()
    changes = wait(browser).until(ec.presence_of_element_located((By.ID, "files-changed")))
    assert "+New words from the browser." in changes.text
    assert "-Old words." in changes.text
    assert not browser.find_elements(By.ID, "merge-button")

    sign_in_browser(browser, web_hub, owner.name)
    browser.get(pr_url)
    box = wait(browser).until(ec.presence_of_element_located((By.ID, "new-comment")))
    box.send_keys("Thanks, merging.")
    browser.find_element(By.ID, "comment-button").click()
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "timeline"), "Thanks, merging."))
    browser.find_element(By.ID, "merge-button").click()
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "thread-status"), "merged"))
    assert "/files" in browser.current_url

    path = hf_hub_download(
        repo_id, "README.md", endpoint=web_hub.url, token=owner.token, cache_dir=str(tmp_path)
    )
    with open(path, "rb") as file:
        assert file.read() == b"# Card\n\nNew words from the browser.\n"


def test_a_second_user_comments_and_the_owner_hides_it(
    browser: WebDriver, web_hub: LiveServer
) -> None:
    owner = user_with_password(web_hub, "host")
    guest = user_with_password(web_hub, "guest")
    repo_id = owner.api.create_repo(f"{owner.name}/{unique_name('chat')}").repo_id
    opened = owner.api.create_discussion(repo_id, title="Roadmap", description="Ideas welcome")

    sign_in_browser(browser, web_hub, guest.name)
    browser.get(f"{web_hub.url}/{repo_id}")
    browser.find_element(By.ID, "community-tab").click()
    wait(browser).until(ec.presence_of_element_located((By.LINK_TEXT, "Roadmap"))).click()
    box = wait(browser).until(ec.presence_of_element_located((By.ID, "new-comment")))
    box.send_keys("Buy my **spam**")
    browser.find_element(By.ID, "comment-button").click()
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "timeline"), "Buy my spam"))
    assert not browser.find_elements(By.CSS_SELECTOR, ".hide-comment")

    sign_in_browser(browser, web_hub, owner.name)
    browser.get(opened.url)
    spam = wait(browser).until(
        ec.presence_of_element_located(
            (By.XPATH, "//li[contains(@class, 'event-comment')][.//strong[text()='spam']]")
        )
    )
    spam.find_element(By.CSS_SELECTOR, ".hide-comment").click()
    wait(browser).until(ec.alert_is_present()).accept()
    wait(browser).until(
        ec.text_to_be_present_in_element(
            (By.ID, "timeline"), f"This comment has been hidden by {owner.name}"
        )
    )
    assert "Buy my" not in browser.find_element(By.ID, "timeline").text
    details = owner.api.get_discussion_details(repo_id, opened.num)
    assert [getattr(e, "hidden", None) for e in details.events] == [False, True]
