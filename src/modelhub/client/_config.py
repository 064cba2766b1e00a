"""Where the client reads its configuration: explicit arguments first, then the environment.

The environment is read when a client is built, never at import (the variables the Hugging Face
ecosystem uses, with `MODELHUB_*` aliases): `HF_ENDPOINT`, `HF_TOKEN` (or the legacy
`HUGGING_FACE_HUB_TOKEN`, or the token file `hf auth login` writes), `HF_HOME`, `HF_HUB_CACHE`,
`HF_HUB_OFFLINE`, `HF_HUB_DISABLE_PROGRESS_BARS`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path

DEFAULT_ENDPOINT = "https://huggingface.co"
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
    """The file `hf auth login` (and `modelhub login`) stores the token in (`HF_TOKEN_PATH`)."""


def _flag(value: str | None) -> bool:
    return value is not None and value.strip().lower() in _TRUE


def _first(env: Mapping[str, str], *names: str) -> str | None:
    return next((env[name] for name in names if env.get(name)), None)


def load_config(
    *,
    endpoint: str | None = None,
    token: str | bool | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> ClientConfig:
    """The configuration for one client.

    Args:
        endpoint: the hub's base URL; default `HF_ENDPOINT`, else huggingface.co.
        token: a token, `False` for none at all, or None to look in `HF_TOKEN` and the token file.
        cache_dir: the hub cache; default `HF_HUB_CACHE`, else `$HF_HOME/hub`.
        environ: the environment to read (default `os.environ`; pass `{}` to ignore it).
    """
    env = os.environ if environ is None else environ
    hf_home = Path(
        _first(env, "MODELHUB_HF_HOME", "HF_HOME")
        or Path(_first(env, "XDG_CACHE_HOME") or Path.home() / ".cache") / "huggingface"
    ).expanduser()
    hub_cache = Path(
        cache_dir
        or _first(env, "MODELHUB_HUB_CACHE", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE")
        or hf_home / "hub"
    ).expanduser()
    resolved_endpoint = (
        endpoint or _first(env, "MODELHUB_ENDPOINT", "HF_ENDPOINT") or DEFAULT_ENDPOINT
    ).rstrip("/")
    token_file = Path(_first(env, "HF_TOKEN_PATH") or hf_home / "token").expanduser()
    resolved_token: str | None
    if token is False:
        resolved_token = None
    elif isinstance(token, str):
        resolved_token = token
    else:
        resolved_token = _first(env, "MODELHUB_TOKEN", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
        if resolved_token is None:
            resolved_token = _read_token(token_file)
    return ClientConfig(
        endpoint=resolved_endpoint,
        token=resolved_token,
        hf_home=hf_home,
        hub_cache=hub_cache,
        offline=_flag(_first(env, "MODELHUB_OFFLINE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")),
        progress_bars=not _flag(_first(env, "HF_HUB_DISABLE_PROGRESS_BARS")),
        token_path=token_file,
    )


def _read_token(path: Path) -> str | None:
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return None
    return token or None
