"""A Space's configuration: the front matter of its `README.md`, checked against its files.

The README's `sdk` wins over the one the Space was created with (which is all a new Space
has). A README whose front matter is not YAML, an unknown SDK or a malformed field is a
`CONFIG_ERROR`; an app file that is not in the commit is `NO_APP_FILE`. Each problem says
what to change, as the Space's error message.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from hubstead.server.domain.repos import RepoRecord
from hubstead.server.domain.spaces import SpaceConfig, SpaceSdk, SpaceStage
from hubstead.server.services.cards import CardError, parse_front_matter
from hubstead.server.storage.git_objects import GitObjectStore

DEFAULT_APP_FILES = {
    SpaceSdk.GRADIO: "app.py",
    SpaceSdk.STREAMLIT: "app.py",
    SpaceSdk.STATIC: "index.html",
    SpaceSdk.DOCKER: "Dockerfile",
}
DEFAULT_APP_PORT = 7860
_VERSION = re.compile(r"^[0-9]+(\.[0-9]+){0,3}([a-z]+[0-9]*)?$")
_MAX_README_BYTES = 1024 * 1024


class SpaceConfigProblem(Exception):
    """Why a Space cannot be built: `stage` is NO_APP_FILE or CONFIG_ERROR."""

    def __init__(self, stage: SpaceStage, message: str) -> None:
        super().__init__(message)
        self.stage = stage
        self.message = message


def read_config(git: GitObjectStore, repo: RepoRecord, commit_id: str) -> SpaceConfig:
    """The Space's app configuration at `commit_id`.

    Raises:
        SpaceConfigProblem: the README or the app file is not as a Space needs.
    """
    card: dict[str, Any] = {}
    entry = git.entry(repo.storage_key, commit_id, "README.md")
    if entry is not None and entry.kind == "file":
        data = git.read_blob(repo.storage_key, entry.oid)
        if len(data) > _MAX_README_BYTES:
            raise _config_error("README.md is larger than 1 MiB")
        try:
            card = parse_front_matter(data.decode("utf-8", errors="replace")) or {}
        except CardError as exc:
            raise _config_error(str(exc)) from None
    config = config_from_card(card, default_sdk=repo.sdk)
    app = git.entry(repo.storage_key, commit_id, config.app_file)
    if app is None or app.kind != "file":
        raise SpaceConfigProblem(
            SpaceStage.NO_APP_FILE,
            f"No application file: add {config.app_file} to the Space "
            f"(or name another one with app_file in the README's front matter)",
        )
    return config


def config_from_card(card: dict[str, Any], *, default_sdk: str | None) -> SpaceConfig:
    """The configuration a README's front matter describes.

    Raises:
        SpaceConfigProblem: CONFIG_ERROR, naming the field that is wrong.
    """
    raw_sdk = card.get("sdk", default_sdk)
    if raw_sdk is None:
        raise _config_error("The README's front matter does not say which sdk the Space uses")
    try:
        sdk = SpaceSdk(raw_sdk)
    except ValueError:
        choices = ", ".join(s.value for s in SpaceSdk)
        raise _config_error(f"Unknown sdk {raw_sdk!r}: one of {choices}") from None
    app_file = card.get("app_file", DEFAULT_APP_FILES[sdk])
    if not isinstance(app_file, str) or not _is_relative_path(app_file):
        raise _config_error(f"app_file must be a path inside the Space, not {app_file!r}")
    app_port = card.get("app_port", DEFAULT_APP_PORT)
    if isinstance(app_port, bool) or not isinstance(app_port, int) or not 1 <= app_port <= 65535:
        raise _config_error(f"app_port must be a port number, not {app_port!r}")
    return SpaceConfig(
        sdk=sdk,
        app_file=posixpath.normpath(app_file),
        app_port=app_port,
        sdk_version=_version(card, "sdk_version"),
        python_version=_version(card, "python_version"),
    )


def _version(card: dict[str, Any], key: str) -> str | None:
    value = card.get(key)
    if value is None:
        return None
    text = str(value)
    if isinstance(value, bool) or not _VERSION.match(text):
        raise _config_error(f"{key} must be a version such as 1.2.3, not {value!r}")
    return text


def _is_relative_path(path: str) -> bool:
    normalized = posixpath.normpath(path)
    return (
        bool(path)
        and not path.startswith("/")
        and "\\" not in path
        and normalized != "."
        and not normalized.startswith("../")
        and normalized != ".."
    )


def _config_error(message: str) -> SpaceConfigProblem:
    return SpaceConfigProblem(SpaceStage.CONFIG_ERROR, message)
