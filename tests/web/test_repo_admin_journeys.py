"""Journeys in headless Chromium: create a repo and upload files to it; gate a repo and grant the
access a user asked for."""

from __future__ import annotations

from pathlib import Path

from huggingface_hub import hf_hub_download
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec

from tests.helpers.accounts import unique_name
from tests.helpers.live_server import LiveServer
from tests.web.conftest import sign_in_browser, user_with_password, wait


def test_create_a_repo_and_upload_two_files(
    browser: WebDriver, web_hub: LiveServer, tmp_path: Path
) -> None:
    user = user_with_password(web_hub, "creator")
    name = unique_name("browser")
    first, second = tmp_path / "notes.md", tmp_path / "config.json"
    first.write_text("# Notes\n")
    second.write_text('{"layers": 2}\n')
    sign_in_browser(browser, web_hub, user.name)

    browser.find_element(By.ID, "new-repo-link").click()
    wait(browser).until(ec.presence_of_element_located((By.ID, "repo-name"))).send_keys(name)
    browser.find_element(By.ID, "create-repo").click()
    wait(browser).until(ec.url_to_be(f"{web_hub.url}/{user.name}/{name}"))

    browser.find_element(By.CSS_SELECTOR, "#add-file summary").click()
    browser.find_element(By.ID, "upload-link").click()
    files = wait(browser).until(ec.presence_of_element_located((By.ID, "upload-files")))
    files.send_keys(f"{first}\n{second}")
    chosen = browser.find_element(By.ID, "chosen-files")
    assert "notes.md" in chosen.text and "config.json" in chosen.text
    browser.find_element(By.ID, "upload-summary").send_keys("Two files from the browser")
    browser.find_element(By.ID, "upload-button").click()

    wait(browser).until(ec.url_to_be(f"{web_hub.url}/{user.name}/{name}/tree/main"))
    wait(browser).until(ec.presence_of_element_located((By.LINK_TEXT, "notes.md")))
    assert browser.find_elements(By.LINK_TEXT, "config.json")
    commit = user.api.list_repo_commits(f"{user.name}/{name}")[0]
    assert commit.title == "Two files from the browser"


def test_a_user_asks_for_access_and_the_owner_grants_it(
    browser: WebDriver, web_hub: LiveServer, tmp_path: Path
) -> None:
    owner, asker = user_with_password(web_hub, "gatekeeper"), user_with_password(web_hub, "asker")
    repo_id = owner.api.create_repo(f"{owner.name}/{unique_name('gated')}").repo_id
    owner.api.upload_file(path_or_fileobj=b"weights", path_in_repo="w.txt", repo_id=repo_id)

    sign_in_browser(browser, web_hub, owner.name)
    browser.get(f"{web_hub.url}/{repo_id}/settings")
    gating = wait(browser).until(ec.presence_of_element_located((By.ID, "gated")))
    gating.find_element(By.CSS_SELECTOR, 'option[value="manual"]').click()
    browser.find_element(By.ID, "save-gating").click()
    wait(browser).until(ec.presence_of_element_located((By.ID, "saved")))
    assert owner.api.repo_info(repo_id).gated == "manual"
    browser.find_element(By.ID, "sign-out").click()
    wait(browser).until(ec.presence_of_element_located((By.ID, "sign-in-link")))

    sign_in_browser(browser, web_hub, asker.name)
    browser.get(f"{web_hub.url}/{repo_id}")
    reason = wait(browser).until(ec.presence_of_element_located((By.ID, "gate-reason")))
    reason.send_keys("evaluation")
    browser.find_element(By.ID, "ask-access").click()
    wait(browser).until(ec.presence_of_element_located((By.ID, "asked")))
    browser.find_element(By.ID, "sign-out").click()
    wait(browser).until(ec.presence_of_element_located((By.ID, "sign-in-link")))

    sign_in_browser(browser, web_hub, owner.name)
    browser.get(f"{web_hub.url}/{repo_id}/settings")
    wait(browser).until(ec.presence_of_element_located((By.ID, "access-requests-link"))).click()
    row = wait(browser).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, f'tr[data-user="{asker.name}"]'))
    )
    assert "evaluation" in row.text
    row.find_element(By.CSS_SELECTOR, "button.accept").click()
    wait(browser).until(ec.presence_of_element_located((By.ID, "no-requests")))
    browser.find_element(By.ID, "status-accepted").click()
    wait(browser).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, f'tr[data-user="{asker.name}"]'))
    )

    path = hf_hub_download(
        repo_id, "w.txt", token=asker.token, endpoint=web_hub.url, cache_dir=tmp_path
    )
    assert Path(path).read_bytes() == b"weights"
