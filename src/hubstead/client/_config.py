"""Where the client reads its configuration: explicit arguments first, then the environment.

The environment is read when a client is built, never at import, and only here (so
`HfApi(trust_env=False)` really ignores it). The variables are the ones the Hugging Face
ecosystem uses, with `HUBSTEAD_*` aliases: `HF_ENDPOINT`, `HF_TOKEN` (or the legacy
`HUGGING_FACE_HUB_TOKEN`, or the token file `hf auth login` writes), `HF_HOME`, `HF_HUB_CACHE`,
`HF_HUB_OFFLINE`, `HF_HUB_DISABLE_PROGRESS_BARS`; and hubstead's own `HUBSTEAD_MAX_RETRIES`,
`HUBSTEAD_DOWNLOAD_CONNECTIONS` and `HUBSTEAD_DOWNLOAD_CHUNK_SIZE`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path

from hubstead.errors import HFValidationError

DEFAULT_ENDPOINT = "https://huggingface.co"
DEFAULT_MAX_RETRIES = 5
_TRUE = {"1", "true", "yes", "on"}


@dataclasses.dataclass(frozen=True)
class ClientConfig:
    """Everything the client needs to know about where it talks to and where it stores files."""

    endpoint: str
    token: str | None
    hf_home: Path
    hub_cache: Path
    offline: bool
    progress_bars: bool
    token_path: Path
    """The file `hf auth login` (and `hubstead login`) stores the token in (`HF_TOKEN_PATH`)."""
    max_retries: int = DEFAULT_MAX_RETRIES
    """Attempts after the first for connection errors, 429 and 5xx (`HUBSTEAD_MAX_RETRIES`)."""
    download_connections: int | None = None
    """Parallel range requests per large file (`HUBSTEAD_DOWNLOAD_CONNECTIONS`; None: default)."""
    download_chunk_size: int | None = None
    """Bytes per range request (`HUBSTEAD_DOWNLOAD_CHUNK_SIZE`; None: from the file size)."""


def load_config(
    *,
    endpoint: str | None = None,
    token: str | bool | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    max_retries: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> ClientConfig:
    """The configuration for one client.

    Args:
        endpoint: the hub's base URL; default `HF_ENDPOINT`, else huggingface.co.
        token: a token, `False` for none at all, or None to look in `HF_TOKEN` and the token file.
        cache_dir: the hub cache; default `HF_HUB_CACHE`, else `$HF_HOME/hub`.
        max_retries: retries of a failed request; default `HUBSTEAD_MAX_RETRIES`, else 5.
        environ: the environment to read (default `os.environ`; pass `{}` to ignore it).

    Raises:
        HFValidationError: a `HUBSTEAD_*` number that is not a whole number in range.
    """
    env = os.environ if environ is None else environ
    hf_home = Path(
        _first(env, "HUBSTEAD_HF_HOME", "HF_HOME")
        or Path(_first(env, "XDG_CACHE_HOME") or Path.home() / ".cache") / "huggingface"
    ).expanduser()
    hub_cache = Path(
        cache_dir
        or _first(env, "HUBSTEAD_HUB_CACHE", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE")
        or hf_home / "hub"
    ).expanduser()
    resolved_endpoint = (
        endpoint or _first(env, "HUBSTEAD_ENDPOINT", "HF_ENDPOINT") or DEFAULT_ENDPOINT
    ).rstrip("/")
    token_file = Path(_first(env, "HF_TOKEN_PATH") or hf_home / "token").expanduser()
    resolved_token: str | None
    if token is False:
        resolved_token = None
    elif isinstance(token, str):
        resolved_token = token
    else:
        resolved_token = environment_token(env)
        if resolved_token is None:
            resolved_token = read_token(token_file)
    if max_retries is None:
        max_retries = _number(env, "HUBSTEAD_MAX_RETRIES", minimum=0)
    return ClientConfig(
        endpoint=resolved_endpoint,
        token=resolved_token,
        hf_home=hf_home,
        hub_cache=hub_cache,
        offline=_flag(_first(env, "HUBSTEAD_OFFLINE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")),
        progress_bars=not _flag(_first(env, "HF_HUB_DISABLE_PROGRESS_BARS")),
        token_path=token_file,
        max_retries=DEFAULT_MAX_RETRIES if max_retries is None else max_retries,
        download_connections=_number(env, "HUBSTEAD_DOWNLOAD_CONNECTIONS", minimum=1),
        download_chunk_size=_number(env, "HUBSTEAD_DOWNLOAD_CHUNK_SIZE", minimum=1),
    )


def environment_token(environ: Mapping[str, str] | None = None) -> str | None:
    """The token the environment sets (`HF_TOKEN`, or an alias), if any."""
    env = os.environ if environ is None else environ
    return _first(env, "HUBSTEAD_TOKEN", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")


def read_token(path: Path) -> str | None:
    """The token stored in `path`, or None if there is none (or it cannot be read)."""
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return None
    return token or None


def _flag(value: str | None) -> bool:
    return value is not None and value.strip().lower() in _TRUE


def _first(env: Mapping[str, str], *names: str) -> str | None:
    return next((env[name] for name in names if env.get(name)), None)


def _number(env: Mapping[str, str], name: str, *, minimum: int) -> int | None:
    """An integer setting, or None when unset.

    Raises:
        HFValidationError: the value is not a whole number of at least `minimum`.
    """
    value = _first(env, name)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        number = minimum - 1
    if number < minimum:
        raise HFValidationError(f"{name} must be a whole number of at least {minimum}: {value!r}")
    return number
