"""`hf auth login` (the real CLI, in its default browser mode) approved in headless Chromium."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec

from tests.helpers.accounts import HubUser
from tests.helpers.clients import HF_CLI
from tests.helpers.live_server import LiveServer
from tests.web.conftest import submit_sign_in, wait

USER_CODE = re.compile(r"\b([A-Z]{4}-[A-Z]{4})\b")


def hf_env(server: LiveServer, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
    return {**env, "HF_ENDPOINT": server.url, "HF_HOME": str(home), "PYTHONUNBUFFERED": "1"}


def start_login(server: LiveServer, home: Path) -> tuple[subprocess.Popen[str], str, str]:
    """Run `hf auth login`; the process, and the URL and code it tells its user."""
    process = subprocess.Popen(
        [HF_CLI, "auth", "login"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=hf_env(server, home),
    )
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        code = USER_CODE.search(line)
        if code is not None:
            url = re.search(r"(http://\S+/oauth/device\S*)", "".join(seen))
            assert url is not None, "".join(seen)
            return process, url.group(1).rstrip(".,"), code.group(1)
    raise AssertionError("hf auth login printed no code:\n" + "".join(seen))


def test_hf_auth_login_approved_in_the_browser_saves_a_token_of_the_user(
    browser: WebDriver, web_hub: LiveServer, web_user: tuple[HubUser, str], tmp_path: Path
) -> None:
    user, password = web_user
    process, url, code = start_login(web_hub, tmp_path)
    try:
        browser.get(url)
        wait(browser).until(ec.presence_of_element_located((By.ID, "password-form")))
        sign_in_here = browser.current_url
        assert "/login?next=" in sign_in_here
        browser.find_element(By.ID, "username").send_keys(user.name)
        browser.find_element(By.ID, "password").send_keys(password)
        browser.find_element(By.ID, "sign-in").click()
        shown = wait(browser).until(ec.presence_of_element_located((By.ID, "device-code")))
        assert shown.text == code
        browser.find_element(By.ID, "approve").click()
        wait(browser).until(ec.presence_of_element_located((By.ID, "device-done")))
        output, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, output

    whoami = subprocess.run(
        [HF_CLI, "auth", "whoami"],
        capture_output=True,
        text=True,
        env=hf_env(web_hub, tmp_path),
        timeout=60,
        check=False,
    )
    assert whoami.returncode == 0, whoami.stderr
    assert user.name in whoami.stdout
    tokens = web_hub.services.auth.list_tokens(user.name)
    assert [(t.name, t.role.value) for t in tokens if t.name == f"device-login-{code}"] == [
        (f"device-login-{code}", "write")
    ]


def test_a_denied_device_gets_no_token(
    browser: WebDriver, web_hub: LiveServer, web_user: tuple[HubUser, str], tmp_path: Path
) -> None:
    user, password = web_user
    submit_sign_in(browser, web_hub, user.name, password)
    wait(browser).until(ec.presence_of_element_located((By.ID, "signed-in-as")))
    process, _, code = start_login(web_hub, tmp_path)
    try:
        browser.get(f"{web_hub.url}/oauth/device")
        field = wait(browser).until(ec.presence_of_element_located((By.ID, "user_code")))
        field.send_keys(code.lower().replace("-", ""))
        field.submit()
        wait(browser).until(ec.presence_of_element_located((By.ID, "deny"))).click()
        wait(browser).until(ec.presence_of_element_located((By.ID, "device-done")))
        output, _ = process.communicate(timeout=60)
    finally:
        process.kill()

    assert process.returncode != 0
    assert "denied" in output.lower()
    assert not (tmp_path / "token").exists()
    assert all(
        t.name != f"device-login-{code}" for t in web_hub.services.auth.list_tokens(user.name)
    )
