"""Journeys in headless Chromium: a profile and a collection, and an org admin adding a member."""

from __future__ import annotations

from huggingface_hub import HfApi
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select

from hubstead.server.domain.accounts import Role
from tests.helpers.accounts import make_org, make_user, unique_name
from tests.helpers.live_server import LiveServer
from tests.web.conftest import sign_in_browser, user_with_password, wait


def test_from_the_profile_create_a_collection_and_add_a_repo_to_it(
    browser: WebDriver, web_hub: LiveServer
) -> None:
    user = user_with_password(web_hub, "curator")
    repo_id = user.api.create_repo(f"{user.name}/{unique_name('gem')}").repo_id

    sign_in_browser(browser, web_hub, user.name)
    browser.find_element(By.ID, "signed-in-as").click()
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "profile-name"), user.name))
    assert repo_id in browser.find_element(By.ID, "repos-model").find_element(By.XPATH, "..").text

    browser.find_element(By.ID, "all-collections").click()
    browser.find_element(By.CSS_SELECTOR, "#new-collection summary").click()
    title = wait(browser).until(ec.visibility_of_element_located((By.ID, "new-collection-title")))
    title.send_keys("Gems I like")
    browser.find_element(By.ID, "new-collection-description").send_keys("Shiny things")
    browser.find_element(By.ID, "create-collection").click()
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "collection-title"), "Gems"))
    assert "This collection is empty." in browser.find_element(By.ID, "no-items").text

    Select(browser.find_element(By.ID, "item-type")).select_by_value("model")
    browser.find_element(By.ID, "item-id").send_keys(repo_id)
    browser.find_element(By.ID, "item-note").send_keys("The *best* one")
    browser.find_element(By.ID, "add-item-button").click()
    items = wait(browser).until(ec.presence_of_element_located((By.ID, "items")))
    assert repo_id in items.text and "The best one" in items.text
    assert items.find_element(By.CSS_SELECTOR, ".note em").text == "best"

    items.find_element(By.LINK_TEXT, repo_id).click()
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "repo-name"), repo_id))
    slugs = [c.slug for c in user.api.list_collections(owner=user.name)]
    assert len(slugs) == 1
    assert [item.item_id for item in user.api.get_collection(slugs[0]).items] == [repo_id]


def test_an_org_admin_adds_a_writer_who_then_pushes_to_an_org_repo(
    browser: WebDriver, web_hub: LiveServer
) -> None:
    admin = user_with_password(web_hub, "orgadmin")
    writer = make_user(web_hub, "writer")
    org = make_org(web_hub, {admin.name: Role.ADMIN})
    repo_id = admin.api.create_repo(f"{org}/{unique_name('shared')}").repo_id
    writer_api = HfApi(endpoint=web_hub.url, token=writer.token)

    sign_in_browser(browser, web_hub, admin.name)
    browser.get(f"{web_hub.url}/{org}")
    browser.find_element(By.ID, "org-settings-link").click()
    browser.find_element(By.ID, "org-members-tab").click()
    user_field = wait(browser).until(ec.presence_of_element_located((By.ID, "member-user")))
    user_field.send_keys(writer.name)
    Select(browser.find_element(By.ID, "member-role")).select_by_value("write")
    browser.find_element(By.ID, "add-member-button").click()
    row = wait(browser).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, f'tr[data-member="{writer.name}"]'))
    )
    role = Select(row.find_element(By.TAG_NAME, "select")).first_selected_option
    assert role.get_attribute("value") == "write"

    commit = writer_api.upload_file(
        path_or_fileobj=b"pushed by a new member\n",
        path_in_repo="NOTES.md",
        repo_id=repo_id,
        commit_message="A new member writes",
    )
    assert commit.oid
    browser.get(f"{web_hub.url}/{repo_id}/commits/main")
    wait(browser).until(ec.presence_of_element_located((By.LINK_TEXT, "A new member writes")))
    browser.get(f"{web_hub.url}/{org}")
    members = wait(browser).until(ec.presence_of_element_located((By.ID, "profile-members")))
    assert writer.name in members.text
