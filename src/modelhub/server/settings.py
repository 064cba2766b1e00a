"""Server settings: one declared table, loaded once by the CLI and passed to `create_app`.

Each field of `Settings` carries its help text in its metadata. Values come from, in order of
precedence: an explicit argument (the CLI flag), the `MODELHUB_<KEY>` environment variable, the
TOML file named by `--config`, the default. Unknown keys in the file are an error, and every
problem found is reported at once.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENV_PREFIX = "MODELHUB_"
MiB = 1024 * 1024


class SettingsError(ValueError):
    """One or more settings are invalid; the message lists every problem."""


def _setting(default: Any, help: str, *, secret: bool = False) -> Any:
    return dataclasses.field(default=default, metadata={"help": help, "secret": secret})


@dataclasses.dataclass(frozen=True)
class Settings:
    """Every option of the server."""

    data_dir: Path = _setting(  # noqa: RUF009 (a field specifier, not a shared default)
        Path("~/.local/share/modelhub"), "Where repos, blobs and the SQLite database live."
    )
    host: str = _setting("127.0.0.1", "Interface to listen on.")
    port: int = _setting(8080, "TCP port to listen on (0 picks a free one).")
    public_url: str | None = _setting(
        None, "Base URL clients use; by default derived from each request's Host header."
    )
    database_url: str | None = _setting(
        None,
        "SQLAlchemy URL of the metadata database; default: SQLite in the data dir.",
        secret=True,
    )
    max_json_bytes: int = _setting(16 * MiB, "Largest JSON request body accepted.")
    max_commit_bytes: int = _setting(
        2048 * MiB, "Largest NDJSON commit body accepted (inline file content included)."
    )
    max_regular_file_bytes: int = _setting(
        64 * MiB, "Largest file accepted inline in a commit; larger content must go through LFS."
    )
    lfs_threshold_bytes: int = _setting(
        10 * MiB, "Files at least this large are uploaded through LFS, as on huggingface.co."
    )
    log_level: str = _setting("info", "Log level: debug, info, warning or error.")

    @property
    def resolved_data_dir(self) -> Path:
        """The data directory with `~` expanded, absolute."""
        return self.data_dir.expanduser().resolve()

    @property
    def effective_database_url(self) -> str:
        """The database URL, defaulting to SQLite in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_data_dir / 'modelhub.sqlite3'}"

    def redacted(self) -> dict[str, str]:
        """Effective values for display, with secrets hidden."""
        shown: dict[str, str] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            secret = field.metadata["secret"] and value is not None
            shown[field.name] = "********" if secret else str(value)
        return shown


def settings_help() -> list[tuple[str, str, str]]:
    """(key, default, help) for every setting, for `--help-settings`."""
    return [(f.name, str(f.default), str(f.metadata["help"])) for f in dataclasses.fields(Settings)]


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    *,
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build `Settings` from overrides, `MODELHUB_*` variables, a TOML file and the defaults.

    Args:
        overrides: explicit values (CLI flags); None values are ignored.
        config_file: optional TOML file with the same keys.
        environ: the environment to read (defaults to `os.environ`).

    Raises:
        SettingsError: listing every unknown key and invalid value.
    """
    env = os.environ if environ is None else environ
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    problems: list[str] = []
    raw: dict[str, Any] = {}
    if config_file is not None:
        try:
            file_values = tomllib.loads(config_file.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"cannot read config file {config_file}: {exc}") from exc
        for key, value in file_values.items():
            if key not in fields:
                problems.append(f"unknown setting {key!r} in {config_file}")
            else:
                raw[key] = value
    for key in fields:
        env_value = env.get(ENV_PREFIX + key.upper())
        if env_value is not None and env_value != "":
            raw[key] = env_value
    for key, value in (overrides or {}).items():
        if key not in fields:
            problems.append(f"unknown setting {key!r}")
        elif value is not None:
            raw[key] = value
    values: dict[str, Any] = {}
    for key, value in raw.items():
        try:
            values[key] = _coerce(fields[key], value)
        except ValueError as exc:
            problems.append(f"{key}: {exc}")
    settings = Settings(**values)
    problems.extend(_validate(settings))
    if problems:
        raise SettingsError("invalid settings:\n  " + "\n  ".join(problems))
    return settings


def _coerce(field: dataclasses.Field[Any], value: Any) -> Any:
    kind = str(field.type)
    if "Path" in kind:
        return Path(str(value))
    if kind == "int":
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ValueError(f"expected an integer, got {value!r}") from None
    return str(value)


def _validate(settings: Settings) -> list[str]:
    problems = []
    if not 0 <= settings.port <= 65535:
        problems.append(f"port: {settings.port} is not between 0 and 65535")
    if settings.public_url is not None:
        parts = urlsplit(settings.public_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(f"public_url: {settings.public_url!r} is not an http(s) URL")
    if settings.log_level.lower() not in ("debug", "info", "warning", "error"):
        problems.append(f"log_level: {settings.log_level!r} is not debug, info, warning or error")
    for key in ("max_json_bytes", "max_commit_bytes", "max_regular_file_bytes"):
        if getattr(settings, key) <= 0:
            problems.append(f"{key}: must be positive")
    return problems
