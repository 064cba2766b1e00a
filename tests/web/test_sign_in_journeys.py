"""Journeys in headless Chromium: sign in, use a token made in the browser, sign out."""

from __future__ import annotations

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select

from tests.helpers.accounts import HubUser
from tests.helpers.live_server import LiveServer
from tests.web.conftest import submit_sign_in, wait


def test_sign_in_create_a_token_use_it_revoke_it_and_sign_out(
    browser: WebDriver, web_hub: LiveServer, web_user: tuple[HubUser, str]
) -> None:
    user, password = web_user

    submit_sign_in(browser, web_hub, user.name, password)
    who = wait(browser).until(ec.presence_of_element_located((By.ID, "signed-in-as")))
    assert who.text == user.name
    assert browser.current_url == web_hub.url + "/"
    assert "Recently updated models" in browser.page_source

    browser.find_element(By.ID, "settings-link").click()
    wait(browser).until(ec.presence_of_element_located((By.ID, "settings-tokens-tab"))).click()
    wait(browser).until(ec.presence_of_element_located((By.ID, "token-name"))).send_keys("laptop")
    Select(browser.find_element(By.ID, "token-role")).select_by_value("read")
    browser.find_element(By.ID, "create-token-button").click()
    secret = wait(browser).until(ec.presence_of_element_located((By.ID, "new-token"))).text

    me = HfApi(endpoint=web_hub.url, token=secret).whoami()
    assert me["name"] == user.name
    assert me["auth"]["accessToken"] == {"displayName": "laptop", "role": "read"}

    row = browser.find_element(By.CSS_SELECTOR, 'tr[data-token-name="laptop"]')
    row.find_element(By.CSS_SELECTOR, "button.danger").click()
    wait(browser).until(ec.alert_is_present()).accept()
    wait(browser).until(
        ec.invisibility_of_element_located((By.CSS_SELECTOR, 'tr[data-token-name="laptop"]'))
    )
    with pytest.raises(HfHubHTTPError) as refused:
        HfApi(endpoint=web_hub.url, token=secret).whoami()
    assert refused.value.response.status_code == 401

    browser.find_element(By.ID, "sign-out").click()
    wait(browser).until(ec.presence_of_element_located((By.ID, "sign-in-link")))
    browser.get(web_hub.url + "/settings/tokens")
    wait(browser).until(ec.presence_of_element_located((By.ID, "password-form")))
    assert "/login?next=%2Fsettings%2Ftokens" in browser.current_url


def test_wrong_password_is_refused_with_the_same_words_as_an_unknown_user(
    browser: WebDriver, web_hub: LiveServer, web_user: tuple[HubUser, str]
) -> None:
    user, _ = web_user

    submit_sign_in(browser, web_hub, user.name, "not the password")
    wrong = wait(browser).until(ec.presence_of_element_located((By.ID, "login-error"))).text
    submit_sign_in(browser, web_hub, "nobody-by-this-name", "not the password")
    unknown = wait(browser).until(ec.presence_of_element_located((By.ID, "login-error"))).text

    assert wrong == unknown == "Wrong username or password"
    assert browser.find_elements(By.ID, "signed-in-as") == []


def test_sign_in_with_a_token_goes_back_to_the_page_asked_for(
    browser: WebDriver, web_hub: LiveServer, web_user: tuple[HubUser, str]
) -> None:
    user, _ = web_user
    browser.get(web_hub.url + "/settings/password")
    wait(browser).until(ec.presence_of_element_located((By.ID, "password-form")))
    browser.find_element(By.CSS_SELECTOR, ".token-sign-in summary").click()
    browser.find_element(By.ID, "token").send_keys(user.token)
    browser.find_element(By.ID, "sign-in-token").click()

    wait(browser).until(ec.presence_of_element_located((By.ID, "change-password")))
    assert browser.current_url == web_hub.url + "/settings/password"
    assert browser.find_element(By.ID, "signed-in-as").text == user.name
