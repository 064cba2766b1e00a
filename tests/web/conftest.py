"""The web hub's fixtures: a hub for each module, headless Chromium, and signed-in clients.

The browser is Debian's `chromium` driven through its `chromedriver` (installed by
`scripts/test-services`); one browser serves a whole module, and each test starts with no
cookies and no stored data, as a fresh profile would.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
from collections.abc import Iterator

import httpx
import pytest
from click.testing import CliRunner
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from hubstead.cli.main import cli
from tests.helpers.accounts import HubUser, make_user
from tests.helpers.live_server import LiveServer, start_server

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
PASSWORD = "correct horse battery"
# A string that would run if a page put it anywhere unescaped.
HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


@pytest.fixture(scope="module")
def web_hub(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None
) -> Iterator[LiveServer]:
    """A hub whose device logins may poll every second (the official client's floor)."""
    server = start_server(
        tmp_path_factory.mktemp("web-hub"),
        database_url,
        device_poll_seconds=1,
        sign_in_address_attempts=1000,
    )
    yield server
    server.stop()


def set_password(server: LiveServer, user: str, password: str) -> str:
    """Set a password with `hubstead admin set-password --password-stdin`; its stderr."""
    args = ["admin", "set-password", user, "--password-stdin", "--data-dir", str(server.data_dir)]
    if server.settings.database_url is not None:
        args += ["--database-url", server.settings.database_url]
    result = CliRunner().invoke(cli, args, input=password + "\n")
    assert result.exit_code == 0, result.output
    return result.stderr


def user_with_password(server: LiveServer, prefix: str = "user", *, admin: bool = False) -> HubUser:
    """A user (a site admin with `admin`) with a write token and the password `PASSWORD`."""
    user = make_user(server, prefix, admin=admin)
    set_password(server, user.name, PASSWORD)
    return user


@pytest.fixture
def web_user(web_hub: LiveServer) -> tuple[HubUser, str]:
    """A user of the web hub with a password set by the CLI, and that password."""
    return user_with_password(web_hub, "web"), PASSWORD


def browser_client(server: LiveServer) -> httpx.Client:
    """An httpx client asking for pages, as a browser does, with no session."""
    return httpx.Client(base_url=server.url, headers={"accept": "text/html"})


def csrf_of(page: httpx.Response) -> str:
    """The CSRF token in a page's forms."""
    found = _CSRF.search(page.text)
    assert found is not None, page.text
    return found.group(1)


@contextlib.contextmanager
def signed_in_client(server: LiveServer, name: str, password: str) -> Iterator[httpx.Client]:
    """An httpx client with the cookies of a browser that signed in with a password."""
    with httpx.Client(base_url=server.url, headers={"accept": "text/html"}) as client:
        token = csrf_of(client.get("/login"))
        answer = client.post(
            "/login", data={"csrf_token": token, "username": name, "password": password}
        )
        assert answer.status_code == 303, answer.text
        yield client


@pytest.fixture(scope="module")
def chromium() -> Iterator[WebDriver]:
    """One headless Chromium for the module."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("chromium and chromedriver are not installed (scripts/test-services)")
    profile = tempfile.mkdtemp(prefix="hubstead-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--window-size=1280,900",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser(chromium: WebDriver, web_hub: LiveServer) -> Iterator[WebDriver]:
    """The module's browser with no cookies or stored data from an earlier test.

    The test's last page is left afterwards: a page that follows a stream (a Space's log) would
    keep the hub's shutdown waiting.
    """
    chromium.get(web_hub.url + "/static/hub.css")
    chromium.delete_all_cookies()
    chromium.execute_script("window.localStorage.clear();")
    yield chromium
    chromium.get("about:blank")


def wait(driver: WebDriver, timeout: float = 15) -> WebDriverWait[WebDriver]:
    """An explicit wait on `driver`."""
    return WebDriverWait(driver, timeout)


def submit_sign_in(browser: WebDriver, server: LiveServer, name: str, password: str) -> None:
    """Fill in and send the sign-in form (whatever the hub answers)."""
    browser.get(server.url + "/login")
    browser.find_element(By.ID, "username").send_keys(name)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.ID, "sign-in").click()


def sign_in_browser(browser: WebDriver, server: LiveServer, name: str) -> None:
    """Sign in as `name` (password `PASSWORD`) from a fresh browser state, and wait for it."""
    browser.delete_all_cookies()
    submit_sign_in(browser, server, name, PASSWORD)
    wait(browser).until(ec.presence_of_element_located((By.ID, "signed-in-as")))
