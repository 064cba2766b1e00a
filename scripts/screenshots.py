"""Take the web hub's screenshots for the README and docs/screenshots/.

Run it from a checkout with the dev venv (selenium) and Debian's `chromium` and `chromedriver`
(`scripts/test-services` installs them):

    python scripts/screenshots.py docs/screenshots

It starts `hubstead serve` on a temporary data dir and a free port, makes the user `alice` with a
password and a second token, uploads the model repo `alice/tiny-gpt` (a card with metadata, a
small safetensors file, a config and a Python file) in two commits, adds a branch, a dataset
with a CSV file, a collection, and a pull request from `bob` with two comments, and saves
1280x900 PNGs of headless Chromium showing: the sign-in page, the front page, the repo page, the
Python file, the second commit's diff, the access tokens page, the pull request and its files,
the CSV preview, the upload page, the repo settings, alice's profile and the admin overview
(light theme), and the repo page in the dark theme. The hub and its data dir are gone when it
returns.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from huggingface_hub import CommitOperationAdd, HfApi
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

HUBSTEAD = [sys.executable, "-c", "from hubstead.cli.main import main; main()"]
USER, PASSWORD = "alice", "correct horse battery"
REPO = f"{USER}/tiny-gpt"
WIDTH, HEIGHT = 1280, 900

CARD = """---
license: apache-2.0
library_name: transformers
pipeline_tag: text-generation
tags:
- gpt2
- tiny
- text-generation
---

# tiny-gpt

A two-layer GPT-2 trained on a few megabytes of public-domain books: small enough to load in a
test, large enough to say something.

## Usage

```python
from transformers import AutoModelForCausalLM, AutoTokenizer

tokenizer = AutoTokenizer.from_pretrained("alice/tiny-gpt")
model = AutoModelForCausalLM.from_pretrained("alice/tiny-gpt")
inputs = tokenizer("Once upon a time", return_tensors="pt")
print(tokenizer.decode(model.generate(**inputs, max_new_tokens=20)[0]))
```

## Training

- 2 layers, hidden size 64, 4 heads, a 512-token byte-level vocabulary
- 20,000 steps on one laptop CPU, in an afternoon
"""

CONFIG = {
    "architectures": ["GPT2LMHeadModel"],
    "model_type": "gpt2",
    "n_embd": 64,
    "n_head": 4,
    "n_layer": 2,
    "n_positions": 256,
    "vocab_size": 512,
}

GENERATE = '''"""Sample text from tiny-gpt on the command line."""

import sys

from transformers import pipeline


def main(prompt: str, tokens: int = 40) -> None:
    """Print `tokens` new tokens after `prompt`."""
    generator = pipeline("text-generation", model="alice/tiny-gpt")
    for sample in generator(prompt, max_new_tokens=tokens, do_sample=True):
        print(sample["generated_text"])


if __name__ == "__main__":
    main(" ".join(sys.argv[1:]) or "Once upon a time")
'''

GENERATE_V2 = GENERATE.replace(
    "def main(prompt: str, tokens: int = 40) -> None:",
    "def main(prompt: str, tokens: int = 40, temperature: float = 0.8) -> None:",
).replace(
    "max_new_tokens=tokens, do_sample=True)",
    "max_new_tokens=tokens, do_sample=True, temperature=temperature)",
)


def safetensors_file(tensors: dict[str, tuple[int, ...]]) -> bytes:
    """A safetensors file of zero-filled float32 tensors with these shapes."""
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, shape in tensors.items():
        size = 4
        for dimension in shape:
            size *= dimension
        header[name] = {
            "dtype": "F32",
            "shape": list(shape),
            "data_offsets": [offset, offset + size],
        }
        offset += size
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    return struct.pack("<Q", len(encoded)) + encoded + bytes(offset)


def hubstead(data_dir: Path, *args: str, stdin: str | None = None) -> str:
    """Run a `hubstead admin` command on `data_dir`; its stdout."""
    result = subprocess.run(  # noqa: S603 (a fixed argv, no shell)
        [*HUBSTEAD, "admin", *args, "--data-dir", str(data_dir)],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


@contextlib.contextmanager
def serving(data_dir: Path) -> Iterator[str]:
    """Run `hubstead serve` on `data_dir` and a free port; its URL once it answers."""
    log = data_dir / "serve.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(  # noqa: S603 (a fixed argv, no shell)
            [*HUBSTEAD, "serve", "--port", "0", "--data-dir", str(data_dir / "hub")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        deadline = time.monotonic() + 60
        while (
            found := re.search(r"^hubstead serving .* on (http://\S+)", log.read_text(), re.M)
        ) is None:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("hubstead serve did not start:\n" + log.read_text())
            time.sleep(0.1)
        url = found.group(1)
        while True:
            with contextlib.suppress(httpx.TransportError):
                httpx.get(url + "/api/whoami-v2", timeout=5)
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("hubstead serve does not answer:\n" + log.read_text())
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


STORIES = """title,author,year,words
Alice's Adventures in Wonderland,Lewis Carroll,1865,26432
Through the Looking-Glass,Lewis Carroll,1871,29000
The Wonderful Wizard of Oz,L. Frank Baum,1900,39868
Peter and Wendy,J. M. Barrie,1911,47249
The Secret Garden,Frances Hodgson Burnett,1911,80398
"""


def provision(url: str, data_dir: Path) -> tuple[str, int]:
    """Make the users, passwords, tokens, repos, a pull request and a collection.

    Returns the second commit's id and the pull request's number.
    """
    token = hubstead(
        data_dir, "create-user", USER, "--fullname", "Alice Liddell", "--admin"
    ).strip()
    hubstead(data_dir, "set-password", USER, "--password-stdin", stdin=PASSWORD + "\n")
    hubstead(data_dir, "create-token", USER, "--name", "laptop", "--role", "read")
    api = HfApi(endpoint=url, token=token)
    api.create_repo(REPO)
    weights = safetensors_file(
        {
            "transformer.wte.weight": (512, 64),
            "transformer.wpe.weight": (256, 64),
            "transformer.ln_f.weight": (64,),
        }
    )
    files = {
        "README.md": CARD.encode(),
        "config.json": (json.dumps(CONFIG, indent=2) + "\n").encode(),
        "model.safetensors": weights,
        "generate.py": GENERATE.encode(),
    }
    api.create_commit(
        REPO,
        [CommitOperationAdd(path, content) for path, content in files.items()],
        commit_message="Add tiny-gpt: weights, config, card and a sampling script",
    )
    second = api.create_commit(
        REPO,
        [CommitOperationAdd("generate.py", GENERATE_V2.encode())],
        commit_message="generate.py: a temperature for sampling",
        commit_description="Defaults to 0.8, which reads better than greedy decoding.",
    )
    api.create_branch(REPO, branch="longer-context")
    dataset = f"{USER}/tiny-stories"
    api.create_repo(dataset, repo_type="dataset")
    api.upload_file(
        path_or_fileobj=STORIES.encode(),
        path_in_repo="books.csv",
        repo_id=dataset,
        repo_type="dataset",
        commit_message="The books tiny-gpt read",
    )
    collection = api.create_collection(
        "Tiny things", description="Small models and the data they learnt from"
    )
    api.add_collection_item(collection.slug, REPO, "model", note="Two layers, 49k parameters")
    api.add_collection_item(collection.slug, dataset, "dataset")
    bob_token = hubstead(data_dir, "create-user", "bob", "--fullname", "Bob Carroll").strip()
    bob = HfApi(endpoint=url, token=bob_token)
    proposal = bob.create_commit(
        REPO,
        [
            CommitOperationAdd(
                "README.md",
                CARD.replace("in an afternoon", "in one afternoon, on batteries").encode(),
            )
        ],
        commit_message="Card: say how it was trained",
        commit_description="The training section could say what the laptop ran on.",
        create_pr=True,
    )
    assert proposal.pr_num is not None
    api.comment_discussion(REPO, proposal.pr_num, "Nice catch — merging once the CI is green.")
    bob.comment_discussion(
        REPO, proposal.pr_num, "Thanks! Happy to add the **wall-clock time** too."
    )
    return second.oid, proposal.pr_num


@contextlib.contextmanager
def chromium() -> Iterator[WebDriver]:
    """Headless Chromium with a fresh profile and a 1280x900 window."""
    binary, driver_binary = shutil.which("chromium"), shutil.which("chromedriver")
    if binary is None or driver_binary is None:
        raise SystemExit("chromium and chromedriver are needed (scripts/test-services)")
    with tempfile.TemporaryDirectory(prefix="hubstead-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for argument in (
            "--headless=new",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--window-size={WIDTH},{HEIGHT}",
        ):
            options.add_argument(argument)
        driver = webdriver.Chrome(service=Service(executable_path=driver_binary), options=options)
        # The window's frame takes room from the page even when headless: size the page itself.
        metrics = {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False}
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        try:
            yield driver
        finally:
            driver.quit()


def take(driver: WebDriver, url: str, destination: Path) -> None:
    """Open `url` and save what the window shows to `destination`."""
    driver.get(url)
    if not driver.save_screenshot(str(destination)):
        raise RuntimeError(f"no screenshot of {url}")
    print(f"{destination} ({destination.stat().st_size // 1024} KB)")


def shoot(url: str, commit: str, pull_request: int, out: Path) -> None:
    """Save the screenshots of the hub at `url` into `out`."""
    repo = f"{url}/{REPO}"
    with chromium() as driver:
        driver.get(url + "/login")
        driver.execute_script("window.localStorage.setItem('hubstead-theme', 'light');")
        take(driver, url + "/login", out / "sign-in.png")
        driver.find_element(By.ID, "username").send_keys(USER)
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        driver.find_element(By.ID, "sign-in").click()
        WebDriverWait(driver, 15).until(lambda page: page.find_elements(By.ID, "signed-in-as"))
        take(driver, url + "/", out / "front-page.png")
        take(driver, repo, out / "repo.png")
        take(driver, f"{repo}/blob/main/generate.py", out / "file.png")
        take(driver, f"{repo}/commit/{commit}", out / "commit.png")
        take(driver, url + "/settings/tokens", out / "tokens.png")
        take(driver, f"{repo}/discussions/{pull_request}", out / "pull-request.png")
        take(driver, f"{repo}/discussions/{pull_request}/files", out / "pull-request-files.png")
        take(driver, f"{url}/datasets/{USER}/tiny-stories/blob/main/books.csv", out / "preview.png")
        take(driver, f"{repo}/upload/main", out / "upload.png")
        take(driver, f"{repo}/settings", out / "repo-settings.png")
        take(driver, f"{url}/{USER}", out / "profile.png")
        take(driver, url + "/-/admin", out / "admin.png")
        driver.execute_script("window.localStorage.setItem('hubstead-theme', 'dark');")
        take(driver, repo, out / "repo-dark.png")


def main() -> None:
    """Take the screenshots into the directory given as the only argument."""
    if len(sys.argv) != 2:
        raise SystemExit(f"usage: {sys.argv[0]} OUTPUT_DIR")
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hubstead-screenshots-") as temporary:
        data_dir = Path(temporary)
        with serving(data_dir) as url:
            commit, pull_request = provision(url, data_dir / "hub")
            shoot(url, commit, pull_request, out)


if __name__ == "__main__":
    main()
