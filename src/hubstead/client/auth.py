"""Logging in and out: the token files `hf auth login` writes, so both clients share a login.

`login` checks a token with the hub (`whoami`), then stores it the way huggingface_hub does:
the active token alone in `$HF_HOME/token` (or `HF_TOKEN_PATH`), and every saved token in the
INI file `stored_tokens` next to it, one section per token name with an `hf_token` key. Both
files are readable by their owner only. A token in `HF_TOKEN` still wins over the files.
"""

from __future__ import annotations

import configparser
import getpass
import io
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from hubstead.client._config import ClientConfig, load_config, read_token
from hubstead.client.api import HfApi
from hubstead.errors import HFValidationError, LocalTokenNotFoundError

logger = logging.getLogger("hubstead.client")

_GIT_USERNAME = "hf_user"  # the username huggingface_hub stores git credentials under


def login(
    token: str | None = None,
    *,
    add_to_git_credential: bool = False,
    skip_if_logged_in: bool = True,
    endpoint: str | None = None,
) -> dict[str, Any]:
    """Check a token with the hub and store it as the active token.

    Args:
        token: the access token; prompted for (hidden) when None and stdin is a terminal.
        add_to_git_credential: also give it to the configured git credential helpers, for
            `git clone`/`git push` over HTTPS to the hub.
        skip_if_logged_in: when no token is given and one is already set or stored, keep it
            (it is still checked with the hub) instead of asking for another; as in
            huggingface_hub, this is the default.
        endpoint: the hub to check the token with; default `HF_ENDPOINT`.

    Returns:
        The account behind the token, as `whoami` returns it.

    Raises:
        LocalTokenNotFoundError: no token given and no terminal to ask for one.
        HfHubHTTPError: the hub refused the token (401); nothing is stored then.
    """
    if token is None and skip_if_logged_in:
        with HfApi(endpoint=endpoint) as current:
            if current.token is not None:
                return current.whoami()
    if token is None:
        if not sys.stdin.isatty():
            raise LocalTokenNotFoundError("login needs a token: pass token= (no terminal to ask)")
        token = getpass.getpass("Token: ")
    token = token.strip()
    if not token:
        raise LocalTokenNotFoundError("login needs a token, and the one given is empty")
    with HfApi(endpoint=endpoint, token=token) as api:
        account = api.whoami()
        config = api.config
    access = (account.get("auth") or {}).get("accessToken") or {}
    name = access.get("displayName") or f"oauth-{account['name']}"
    stored = _read_stored_tokens(config)
    stored[name] = {"hf_token": token}
    _write_stored_tokens(config, stored)
    _write_secret(config.token_path, token)
    if add_to_git_credential:
        _git_credential(config, "approve", token)
    return account


def logout(token_name: str | None = None) -> None:
    """Forget stored tokens: all of them, or only `token_name`.

    The active token goes when it is the one forgotten; git credentials stored for the hub by
    `login(add_to_git_credential=True)` are erased too. `HF_TOKEN`, if set, is not affected.

    Raises:
        HFValidationError: no stored token has that name.
    """
    config = load_config(token=False)
    if token_name is None:
        config.token_path.unlink(missing_ok=True)
        _stored_tokens_path(config).unlink(missing_ok=True)
    else:
        stored = _read_stored_tokens(config)
        if token_name not in stored:
            raise HFValidationError(f"No stored token is named {token_name!r}")
        fields = stored.pop(token_name)
        _write_stored_tokens(config, stored)
        if fields.get("hf_token") == read_token(config.token_path):
            config.token_path.unlink(missing_ok=True)
    _git_credential(config, "reject", None)


def whoami(token: str | bool | None = None, *, endpoint: str | None = None) -> dict[str, Any]:
    """The account behind a token (default: `HF_TOKEN`, else the stored login token).

    Raises:
        LocalTokenNotFoundError: no token is given, set or stored.
        HfHubHTTPError: the token was refused (401).
    """
    with HfApi(endpoint=endpoint, token=token) as api:
        return api.whoami()


def _stored_tokens_path(config: ClientConfig) -> Path:
    return config.token_path.parent / "stored_tokens"


def _read_stored_tokens(config: ClientConfig) -> dict[str, dict[str, str]]:
    # No interpolation: a `%` in a token is a character, not a reference.
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(_stored_tokens_path(config), encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as exc:
        # huggingface_hub starts over in this case too, so that logging in again repairs it.
        logger.warning("Ignoring the unreadable stored tokens file: %s", exc)
        return {}
    return {name: dict(parser.items(name)) for name in parser.sections()}


def _write_stored_tokens(config: ClientConfig, stored: dict[str, dict[str, str]]) -> None:
    parser = configparser.ConfigParser(interpolation=None)
    for name in sorted(stored):
        parser[name] = stored[name]
    buffer = io.StringIO()
    parser.write(buffer)
    _write_secret(_stored_tokens_path(config), buffer.getvalue())


def _write_secret(path: Path, content: str) -> None:
    """Replace `path` atomically by a file only its owner can read, in a private directory."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(content)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _git_credential(config: ClientConfig, action: str, token: str | None) -> None:
    """`git credential approve|reject` for the hub's URL, when git has a helper to store it."""
    git = shutil.which("git")
    if git is None:
        if token is not None:
            logger.warning("git is not installed: the token was not given to git")
        return
    helpers = subprocess.run(  # noqa: S603 (fixed arguments)
        [git, "config", "--get-all", "credential.helper"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if not helpers:
        if token is not None:
            logger.warning("No git credential helper is configured: the token was not given to git")
        return
    lines = [f"url={config.endpoint}", f"username={_GIT_USERNAME}"]
    if token is not None:
        lines.append(f"password={token}")
    subprocess.run(  # noqa: S603 (fixed arguments)
        [git, "credential", action],
        input="\n".join(lines) + "\n\n",
        capture_output=True,
        text=True,
        check=True,
    )
