"""The ♥ toggle in Chromium: a signed-in user likes a repo from its files page and takes it back."""

from __future__ import annotations

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.helpers.live_server import LiveServer
from tests.web.conftest import sign_in_browser, user_with_password, wait


def _pressed(browser: WebDriver, state: str) -> bool:
    """Whether the ♥ button shows `state` (False while the page is being replaced)."""
    try:
        return browser.find_element(By.ID, "likes").get_attribute("aria-pressed") == state
    except StaleElementReferenceException:
        return False


def test_a_user_likes_a_repo_and_takes_the_like_back(
    browser: WebDriver, web_hub: LiveServer
) -> None:
    owner = user_with_password(web_hub, "starred")
    fan = user_with_password(web_hub, "admirer")
    repo_id = owner.api.create_repo(f"{owner.name}/shiny").repo_id
    sign_in_browser(browser, web_hub, fan.name)

    browser.get(f"{web_hub.url}/{repo_id}/tree/main")
    assert _pressed(browser, "false")
    browser.find_element(By.ID, "likes").click()
    wait(browser).until(lambda b: _pressed(b, "true"))
    assert browser.current_url == f"{web_hub.url}/{repo_id}/tree/main"
    assert browser.find_element(By.ID, "likes").text == "♥ 1"
    assert [u.username for u in owner.api.list_repo_likers(repo_id)] == [fan.name]

    browser.find_element(By.ID, "likes").click()
    wait(browser).until(lambda b: _pressed(b, "false"))
    assert browser.find_element(By.ID, "likes").text == "♥ 0"
    assert owner.api.repo_info(repo_id).likes == 0
