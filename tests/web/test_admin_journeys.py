"""Journeys in headless Chromium through the admin pages: sync a mirror, watch its job finish."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec

from hubstead.protocol import RepoType
from tests.helpers.accounts import make_user, unique_name
from tests.helpers.live_server import LiveServer, start_server
from tests.helpers.mirrors import FaultProxy, add_mirror, hub
from tests.web.conftest import PASSWORD, set_password, submit_sign_in, wait


@pytest.fixture(scope="module")
def web_hub(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None
) -> Iterator[LiveServer]:
    """A hub that runs its jobs in background threads, as `hubstead serve` does."""
    server = start_server(tmp_path_factory.mktemp("admin-web-hub"), database_url, run_jobs=True)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def upstream(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None
) -> Iterator[LiveServer]:
    with hub(tmp_path_factory.mktemp("journey-upstream"), database_url is not None) as server:
        yield server


def test_sync_a_mirror_now_and_watch_its_job_reach_done(
    browser: WebDriver, web_hub: LiveServer, upstream: LiveServer
) -> None:
    owner = make_user(upstream, "owner")
    repo_id = owner.api.create_repo(f"{owner.name}/{unique_name('slow')}").repo_id
    owner.api.upload_file(
        path_or_fileobj=os.urandom(160_000), path_in_repo="w.safetensors", repo_id=repo_id
    )
    # The upstream's LFS downloads come slowly, so the job is still running when its page opens.
    proxy = FaultProxy(upstream.port)
    proxy.throttle("/lfs/objects/", 8192, 0.1)
    add_mirror(web_hub, repo_id, proxy.url)
    admin = make_user(web_hub, "admin", admin=True)
    set_password(web_hub, admin.name, PASSWORD)

    try:
        submit_sign_in(browser, web_hub, admin.name, PASSWORD)
        wait(browser).until(ec.element_to_be_clickable((By.ID, "admin-link"))).click()
        wait(browser).until(ec.element_to_be_clickable((By.LINK_TEXT, "Mirrors"))).click()
        row = wait(browser).until(
            ec.presence_of_element_located((By.CSS_SELECTOR, f'tr[data-mirror="{repo_id}"]'))
        )
        row.find_element(By.CSS_SELECTOR, "button.sync-now").click()

        state = wait(browser).until(ec.presence_of_element_located((By.ID, "job-state")))
        assert state.text in ("queued", "running")
        # A mark on this document: it is still there afterwards only if the page never reloaded.
        browser.execute_script("document.body.setAttribute('data-unreloaded', 'yes');")
        wait(browser, 60).until(ec.text_to_be_present_in_element((By.ID, "job-state"), "succeeded"))

        assert browser.find_element(By.TAG_NAME, "body").get_attribute("data-unreloaded") == "yes"
        bar = browser.find_element(By.CSS_SELECTOR, "#job .job-progress")
        assert bar.get_attribute("value") == bar.get_attribute("max")
        assert "No log lines yet." not in browser.find_element(By.ID, "job-log").text
        assert not browser.find_element(By.ID, "cancel-job").is_displayed()
        assert proxy.matching("/lfs/objects/")
    finally:
        proxy.close()
    assert web_hub.services.mirrors.get(RepoType.MODEL, repo_id).synced_at is not None
