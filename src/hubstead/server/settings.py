"""Server settings: one declared table, loaded once by the CLI and passed to `create_app`.

Each field of `Settings` carries its help text in its metadata. Values come from, in order of
precedence: an explicit argument (the CLI flag), the `HUBSTEAD_<KEY>` environment variable, the
TOML file named by `--config`, the default. Unknown keys in the file are an error, and every
problem found is reported at once, before anything is opened.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

ENV_PREFIX = "HUBSTEAD_"
MiB = 1024 * 1024
LOG_LEVELS = ("debug", "info", "warning", "error")
BLOB_BACKENDS = ("fs", "s3")
SPACE_RUNNERS = ("local", "none")
_DATABASE_DIALECTS = ("sqlite", "postgresql")
_LOCATION_PREFIX = re.compile(r"/[^\s?#]+/")
_MAX_UID = 2**32 - 2
_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
_DOMAIN = re.compile(r"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_DOCKER_PREFIX = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?")
_HOST_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


class SettingsError(ValueError):
    """One or more settings are invalid; the message lists every problem."""


def _setting(default: Any, help: str, *, secret: bool = False, shown: str | None = None) -> Any:
    metadata = {"help": help, "secret": secret, "shown": shown or str(default)}
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(frozen=True)
class Settings:
    """Every option of the server."""

    data_dir: Path = _setting(
        Path("~/.local/share/hubstead"), "Where repos, blobs and the SQLite database live."
    )
    host: str = _setting("127.0.0.1", "Interface to listen on (0.0.0.0 for every interface).")
    port: int = _setting(8080, "TCP port to listen on (0 picks a free one).")
    workers: int = _setting(
        1,
        "Server processes sharing the port, each with its own connections and job threads; "
        "they share the data dir, so they run on one machine.",
    )
    public_url: str | None = _setting(
        None,
        "Base URL clients use, when behind a proxy; by default each response uses the URL "
        "of its request (its Host header).",
        shown="(from each request)",
    )
    spaces_domain: str | None = _setting(
        None,
        "Serve each Space's app on a host of its own under this domain (spaces.example.com: "
        "Space ns/name at ns-name.spaces.example.com), which a wildcard DNS record and TLS "
        "certificate must point at the hub; the /spaces/{ns}/{name}/app/ URLs then redirect "
        "there, so no app runs on the hub's origin.",
        shown="(off: apps are served under /spaces/{ns}/{name}/app/)",
    )
    database_url: str | None = _setting(
        None,
        "SQLAlchemy URL of the metadata database: sqlite:///… or postgresql+psycopg://….",
        secret=True,
        shown="(SQLite in the data dir)",
    )
    max_json_bytes: int = _setting(16 * MiB, "Largest JSON request body accepted.")
    max_commit_bytes: int = _setting(
        2048 * MiB, "Largest NDJSON commit body accepted (inline file content included)."
    )
    max_regular_file_bytes: int = _setting(
        64 * MiB, "Largest file accepted inline in a commit; larger content must go through LFS."
    )
    max_fetch_request_bytes: int = _setting(
        16 * MiB,
        "Largest git fetch request (git-upload-pack body, once decompressed) accepted. A fetch "
        "sends a line of 50 bytes per ref it wants and per commit it has: 16 MiB allows "
        "300,000 of them in one negotiation round, far more than git sends.",
    )
    max_header_bytes: int = _setting(
        64 * 1024,
        "Largest request head (request line and headers) accepted; larger ones are answered "
        "431. Clients of the hub send about 1 KiB.",
    )
    max_header_count: int = _setting(
        100, "Most header fields a request may have; more are answered 431."
    )
    header_timeout_seconds: int = _setting(
        20,
        "How long a client may take to send a whole request head, from its connection or "
        "the request's first byte; a slower one is answered 408 and disconnected.",
    )
    max_connections: int = _setting(
        0,
        "Most client connections open at once. A new one over it closes the connection idle "
        "the longest, or is answered 503 when every connection is busy. 0: half the "
        "process's open-file limit (ulimit -n).",
        shown="0 (half of ulimit -n)",
    )
    lfs_threshold_bytes: int = _setting(
        10 * MiB, "Files at least this large are uploaded through LFS, as on huggingface.co."
    )
    lfs_multipart_threshold_bytes: int = _setting(
        256 * MiB, "LFS uploads at least this large are offered multipart transfer."
    )
    lfs_chunk_bytes: int = _setting(64 * MiB, "Part size of multipart LFS uploads.")
    lfs_url_ttl_seconds: int = _setting(
        3600, "How long pre-signed LFS upload and download URLs stay valid."
    )
    max_lfs_object_bytes: int = _setting(
        5 * 1024**4,
        "Largest LFS object accepted (5 TiB, as S3's largest object, by default); the batch "
        "API refuses larger ones per object with 422.",
        shown="5 TiB",
    )
    xet_cas_url: str | None = _setting(
        None,
        "URL of the Xet CAS that token routes hand to clients, for a CAS served by other "
        "processes or hosts on the same data; by default this hub serves it under /cas.",
        shown="(<the hub's URL>/cas)",
    )
    xet_token_ttl_seconds: int = _setting(
        900, "How long Xet CAS access tokens stay valid (clients refresh them before expiry)."
    )
    xet_url_ttl_seconds: int = _setting(
        600, "How long the signed xorb-range URLs of a reconstruction stay valid."
    )
    xet_xorb_grace_seconds: int = _setting(
        21 * 24 * 3600,
        "How long gc keeps a xorb no file uses, after its last upload or use. Clients dedup "
        "new uploads against the xorbs of their uploads of the last 3 weeks (hf_xet's local "
        "shard cache), and the hub refuses a shard naming a xorb it no longer holds.",
        shown="1814400 (21 days)",
    )
    x_accel_redirect_prefix: str | None = _setting(
        None,
        "Offload LFS downloads to nginx: answer them with an X-Accel-Redirect to this internal "
        "location (e.g. /_hubstead_blobs/), which must alias the blob directory. Every client "
        "must then reach the hub through that nginx.",
        shown="(off: the hub sends the bytes)",
    )
    blob_backend: str = _setting(
        "fs",
        "Where LFS objects and xorbs are kept: fs (under the data dir) or s3 (in s3_bucket, "
        "an S3-compatible object store; credentials come from the standard AWS sources: "
        "AWS_* variables, ~/.aws/credentials and config, instance roles).",
    )
    s3_bucket: str | None = _setting(
        None, "The bucket of the s3 blob backend (it must exist).", shown="(none)"
    )
    s3_prefix: str = _setting(
        "", "Key prefix under which the s3 blob backend keeps blobs/ and xorbs/.", shown=""
    )
    s3_endpoint_url: str | None = _setting(
        None,
        "URL of an S3-compatible API (MinIO, Ceph, R2, ...) for the s3 blob backend.",
        shown="(AWS S3)",
    )
    s3_region: str | None = _setting(
        None, "Region of the s3 blob backend's bucket.", shown="(from the AWS configuration)"
    )
    s3_url_ttl_seconds: int = _setting(
        300,
        "With the s3 blob backend, clients download from and upload to the bucket itself, "
        "through presigned URLs (the bucket's endpoint must be reachable by them): how long a "
        "presigned download URL stays valid (uploads: lfs_url_ttl_seconds). 0: the hub sends "
        "and receives the bytes itself.",
    )
    secret_file: Path | None = _setting(
        None,
        "File holding the key that signs LFS URLs; created with a random key if missing.",
        shown="(secret.key in the data dir)",
    )
    log_level: str = _setting("info", "Log level: debug, info, warning or error.")
    redis_url: str | None = _setting(
        None,
        "Redis URL (redis://host:6379/0) of the arq job queue: jobs then run in `hubstead "
        "worker` processes, not in the server.",
        secret=True,
        shown="(none: jobs run in the server process)",
    )
    redis_queue: str = _setting("hubstead:jobs", "Name of the arq queue in Redis.")
    job_threads: int = _setting(2, "How many jobs one process (server or worker) runs at once.")
    job_poll_seconds: int = _setting(
        5, "How often idle job runners look for due jobs in the database."
    )
    pull_through: str | None = _setting(
        None,
        "URL of an upstream hub (https://huggingface.co) to mirror on demand: a request for a "
        "repo this hub does not have fetches it from there, if the allow/deny patterns let it.",
        shown="(off)",
    )
    upstream_token: str | None = _setting(
        None,
        "Token this hub sends to the pull-through upstream, and to the upstream of mirrors "
        "added without a token of their own (gated and private repos need one).",
        secret=True,
        shown="(none)",
    )
    pull_through_allow: tuple[str, ...] = _setting(
        (),
        "Glob patterns of the repos pull-through may mirror (comma-separated in the "
        "environment), matched against the repo id with datasets/ or spaces/ in front for "
        "those types: google/*, datasets/*.",
        shown="(every repo)",
    )
    pull_through_deny: tuple[str, ...] = _setting(
        (), "Glob patterns of the repos pull-through never mirrors; they win over allow.", shown=""
    )
    pull_through_refresh_seconds: int = _setting(
        86400,
        "How often the branches and tags of a repo mirrored on demand are synced again "
        "(0: only by `hubstead mirror sync`).",
    )
    mirror_concurrency: int = _setting(4, "How many LFS files a mirror sync downloads at once.")
    webhook_allow: tuple[str, ...] = _setting(
        (),
        "Hosts and networks webhooks may call although they are refused by default (loopback, "
        "link-local and cloud metadata addresses): host names, addresses or CIDR networks, "
        "comma-separated in the environment, e.g. 127.0.0.1,ci.internal. The hub's own "
        "address stays refused.",
        shown="",
    )
    webhook_timeout_seconds: int = _setting(
        10, "How long a webhook endpoint may take to connect and to answer each delivery."
    )
    webhook_max_attempts: int = _setting(
        6,
        "How many times a delivery is tried before it fails (retries back off from 10 s to "
        "15 min).",
    )
    space_log_lines: int = _setting(
        5000,
        "How many lines of each Space's build log and run log are kept (the last ones; each "
        "line at most 4 KiB).",
    )

    spaces_runner: str = _setting(
        "local",
        "What runs gradio and streamlit Spaces: local (a process of this machine per app, as "
        "its own user when the hub runs as root or has the runner's capabilities; see "
        "docs/security.md) or none (their builds end in CONFIG_ERROR; static Spaces are served "
        "either way).",
    )
    spaces_dir: Path | None = _setting(
        None,
        "Where the local Space runner keeps app environments, its package cache and each "
        "app's working dir. Outside the data dir, which apps must not reach; every directory "
        "above it must be searchable by other users (o+x), as apps run as other users.",
        shown="(<data_dir>-spaces, beside the data dir)",
    )
    spaces_env_dir: Path | None = _setting(
        None,
        "Where the local Space runner keeps app environments and its package cache, with "
        "their locks. Hubs of one machine may share one (each keeps its own spaces_dir).",
        shown="(spaces_dir)",
    )
    spaces_python: str | None = _setting(
        None,
        "Python of Space apps (a README's python_version wins): a path, or a version uv "
        "looks for on /usr/local/bin:/usr/bin:/bin. It must be reachable by other users.",
        shown="(the hub's Python version)",
    )
    spaces_index_url: str | None = _setting(
        None,
        "Package index Space environments install from (an air-gapped hub names its own).",
        shown="(PyPI)",
    )
    spaces_find_links: tuple[str, ...] = _setting(
        (),
        "Directories or URLs of wheels Space environments also install from (comma-separated "
        "in the environment).",
        shown="",
    )
    spaces_no_index: bool = _setting(
        False, "Install Space environments from spaces_find_links alone, with no index."
    )
    spaces_uid_base: int = _setting(
        1_000_000_000,
        "First of the user ids (and group ids) the local runner uses, when the hub runs as "
        "root or has the runner's capabilities: the builder of environments runs as this one, "
        "the app of the Space with id N as this + 1 + N. No /etc/passwd entries are needed; "
        "no other user may use them.",
    )
    spaces_uid_count: int = _setting(
        1_000_000_000, "How many user ids from spaces_uid_base the local runner may use."
    )
    spaces_builder_uid: int | None = _setting(
        None,
        "The user id (and group id) environments are built as; hubs sharing spaces_env_dir "
        "give the same one (its cache is that user's).",
        shown="(spaces_uid_base)",
    )
    spaces_allow_same_user: bool = _setting(
        False,
        "Let the local runner build and run Space apps as the hub's own user when the hub "
        "cannot switch users (it is not root and lacks the runner's capabilities). Apps can then "
        "read the hub's data dir and the environment of its processes: only for Spaces "
        "everyone with write access to them is trusted.",
    )
    spaces_memory_bytes: int = _setting(
        8 * 1024 * MiB,
        "Address space of each process of a Space app (RLIMIT_AS).",
        shown="8589934592 (8 GiB)",
    )
    spaces_open_files: int = _setting(4096, "Open files of each process of a Space app.")
    spaces_processes: int = _setting(
        512, "Processes and threads of a Space app (RLIMIT_NPROC, per app user)."
    )
    spaces_nice: int = _setting(
        10, "Nice level of Space apps and builds (0-19): the hub's requests go first."
    )
    spaces_start_timeout_seconds: int = _setting(
        300, "How long a Space app may take from its start to listening on its port."
    )
    spaces_docker_host: str | None = _setting(
        None,
        "The Docker engine that builds and runs docker Spaces, as unix:///path/to/socket "
        "(Docker's, or podman's `podman system service`); unset, their builds end in "
        "CONFIG_ERROR. Whoever reaches that socket is root on its machine: docs/security.md.",
        shown="(none)",
    )
    spaces_docker_prefix: str = _setting(
        "hubstead",
        "Names this hub's Space images and containers on the Docker engine "
        "(<prefix>-space-<id>, labelled hubstead.hub=<prefix>): hubs sharing an engine give "
        "different ones.",
    )

    session_days: int = _setting(
        30, "How long a browser stays signed in to the web hub without signing in again."
    )
    sign_in_account_attempts: int = _setting(
        10,
        "Failed sign-ins to one account allowed within sign_in_window_seconds; more are "
        "refused until the window has passed.",
    )
    sign_in_address_attempts: int = _setting(
        50,
        "Failed sign-ins from one client address allowed within sign_in_window_seconds.",
    )
    sign_in_window_seconds: int = _setting(
        900, "The sliding window the sign-in attempt limits count failures in."
    )
    device_code_seconds: int = _setting(
        900, "How long the code of an `hf auth login` (OAuth device flow) stays valid."
    )
    device_poll_seconds: int = _setting(
        5, "How often a device waiting for its login may poll; faster polls get slow_down."
    )

    @property
    def resolved_data_dir(self) -> Path:
        """The data directory with `~` expanded, absolute."""
        return self.data_dir.expanduser().resolve()

    @property
    def effective_database_url(self) -> str:
        """The database URL, defaulting to SQLite in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_data_dir / 'hubstead.sqlite3'}"

    @property
    def effective_secret_file(self) -> Path:
        """The signing key file, defaulting to `secret.key` in the data directory."""
        return self.secret_file or self.resolved_data_dir / "secret.key"

    @property
    def effective_spaces_dir(self) -> Path:
        """The local Space runner's directory, defaulting to `<data_dir>-spaces`."""
        if self.spaces_dir is not None:
            return self.spaces_dir.expanduser().resolve()
        data_dir = self.resolved_data_dir
        return data_dir.with_name(f"{data_dir.name}-spaces")

    @property
    def effective_spaces_env_dir(self) -> Path:
        """Where Space environments are kept, defaulting to the runner's directory."""
        if self.spaces_env_dir is not None:
            return self.spaces_env_dir.expanduser().resolve()
        return self.effective_spaces_dir

    @property
    def spaces_docker_socket(self) -> Path | None:
        """The socket of `spaces_docker_host`, or None when no Docker engine is configured."""
        if self.spaces_docker_host is None:
            return None
        return Path(urlsplit(self.spaces_docker_host).path)

    def redacted(self) -> dict[str, str]:
        """Effective values for display, with secrets hidden."""
        shown: dict[str, str] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            secret = field.metadata["secret"] and value is not None
            shown[field.name] = "********" if secret else str(value)
        return shown


@dataclasses.dataclass(frozen=True)
class SettingHelp:
    """One row of `--help-settings`."""

    key: str
    env: str
    default: str
    help: str


def settings_help() -> list[SettingHelp]:
    """Every setting with its environment variable, shown default and help, in declared order."""
    return [
        SettingHelp(f.name, ENV_PREFIX + f.name.upper(), f.metadata["shown"], f.metadata["help"])
        for f in dataclasses.fields(Settings)
    ]


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    *,
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build `Settings` from overrides, `HUBSTEAD_*` variables, a TOML file and the defaults.

    Relative paths in the TOML file are relative to the file's directory; relative paths from
    flags and the environment are relative to the working directory.

    Args:
        overrides: explicit values (CLI flags); None values are ignored.
        config_file: optional TOML file with the same keys.
        environ: the environment to read (defaults to `os.environ`).

    Returns:
        The validated settings.

    Raises:
        SettingsError: listing every unreadable file, unknown key and invalid value.
    """
    env = os.environ if environ is None else environ
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    problems: list[str] = []
    raw: dict[str, tuple[Any, Path | None]] = {}
    if config_file is not None:
        for key, value in _read_config(config_file).items():
            if key in fields:
                raw[key] = (value, config_file.parent)
            else:
                problems.append(f"unknown setting {key!r} in {config_file}")
    for key in fields:
        env_value = env.get(ENV_PREFIX + key.upper())
        if env_value:
            raw[key] = (env_value, None)
    for key, value in (overrides or {}).items():
        if key not in fields:
            problems.append(f"unknown setting {key!r}")
        elif value is not None:
            raw[key] = (value, None)
    values: dict[str, Any] = {}
    for key, (value, base) in raw.items():
        try:
            values[key] = _coerce(fields[key], value, base)
        except ValueError as exc:
            problems.append(f"{key}: {exc}")
    settings = Settings(**values)
    problems.extend(_validate(settings))
    if problems:
        raise SettingsError("invalid settings:\n  " + "\n  ".join(problems))
    return settings


def _read_config(config_file: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"invalid settings:\n  cannot read {config_file}: {exc}") from exc


def _coerce(field: dataclasses.Field[Any], value: Any, base: Path | None) -> Any:
    """`value` as the field's type; `base` is the directory relative paths start from."""
    # Values from the environment are strings; values from TOML or flags may already be typed.
    kind = str(field.type)
    if kind in ("int", "int | None"):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        raise ValueError(f"expected an integer, got {value!r}")
    if kind.startswith("tuple"):
        return _string_list(value)
    if kind == "bool":
        return _boolean(value)
    if not isinstance(value, str | Path):
        raise ValueError(f"expected a string, got {value!r}")
    if "Path" in kind:
        path = Path(value).expanduser()
        return base / path if base is not None and not path.is_absolute() else path
    if field.name == "log_level":
        return str(value).lower()
    if field.name in ("public_url", "pull_through", "xet_cas_url", "s3_endpoint_url"):
        return str(value).rstrip("/")
    if field.name == "s3_prefix":
        return str(value).strip("/")
    if field.name == "blob_backend":
        return str(value).lower()
    if field.name == "spaces_domain":
        return str(value).lower().strip(".")
    return str(value)


def _boolean(value: Any) -> bool:
    """A boolean, from TOML or flags, or `true`/`false` (or 1/0, yes/no) from the environment."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _BOOLEANS:
        return _BOOLEANS[value.strip().lower()]
    raise ValueError(f"expected true or false, got {value!r}")


def _string_list(value: Any) -> tuple[str, ...]:
    """A list of strings, from TOML or flags, or comma-separated from the environment."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"expected a list of strings, got {value!r}")
    return tuple(item.strip() for item in value if item.strip())


def _validate(settings: Settings) -> list[str]:
    problems = []
    if not 0 <= settings.port <= 65535:
        problems.append(f"port: {settings.port} is not between 0 and 65535")
    if settings.public_url is not None:
        problems.extend(_url_problems("public_url", settings.public_url))
    if settings.xet_cas_url is not None:
        problems.extend(_url_problems("xet_cas_url", settings.xet_cas_url))
    if settings.database_url is not None:
        problems.extend(_database_url_problems(settings.database_url))
    problems.extend(_data_dir_problems(settings.data_dir))
    if settings.log_level not in LOG_LEVELS:
        problems.append(f"log_level: {settings.log_level!r} is not one of {', '.join(LOG_LEVELS)}")
    for key in (
        "max_json_bytes",
        "max_commit_bytes",
        "max_regular_file_bytes",
        "lfs_multipart_threshold_bytes",
        "lfs_chunk_bytes",
        "lfs_url_ttl_seconds",
        "xet_token_ttl_seconds",
        "xet_url_ttl_seconds",
        "max_lfs_object_bytes",
        "workers",
        "job_threads",
        "job_poll_seconds",
        "mirror_concurrency",
        "webhook_timeout_seconds",
        "webhook_max_attempts",
        "space_log_lines",
        "max_fetch_request_bytes",
        "max_header_bytes",
        "max_header_count",
        "header_timeout_seconds",
        "session_days",
        "sign_in_account_attempts",
        "sign_in_address_attempts",
        "sign_in_window_seconds",
        "device_code_seconds",
        "device_poll_seconds",
        "spaces_uid_count",
        "spaces_memory_bytes",
        "spaces_open_files",
        "spaces_processes",
        "spaces_start_timeout_seconds",
    ):
        if getattr(settings, key) <= 0:
            problems.append(f"{key}: must be positive")
    if settings.max_connections < 0:
        problems.append("max_connections: must not be negative (0: half of ulimit -n)")
    if settings.lfs_threshold_bytes <= 0:
        problems.append("lfs_threshold_bytes: must be positive")
    if settings.pull_through is not None:
        problems.extend(_url_problems("pull_through", settings.pull_through))
    for key in ("pull_through_refresh_seconds", "xet_xorb_grace_seconds", "s3_url_ttl_seconds"):
        if getattr(settings, key) < 0:
            problems.append(f"{key}: must not be negative")
    if settings.redis_url is not None:
        problems.extend(_redis_url_problems(settings.redis_url))
    problems.extend(f"webhook_allow: {p}" for p in map(_allow_problem, settings.webhook_allow) if p)
    problems.extend(_blob_backend_problems(settings))
    problems.extend(_spaces_problems(settings))
    prefix = settings.x_accel_redirect_prefix
    if prefix is not None and not _LOCATION_PREFIX.fullmatch(prefix):
        problems.append(
            f"x_accel_redirect_prefix: {prefix!r} is not a location path that starts and ends "
            "with '/', such as /_hubstead_blobs/"
        )
    return problems


def _blob_backend_problems(settings: Settings) -> list[str]:
    backend = settings.blob_backend
    if backend not in BLOB_BACKENDS:
        return [f"blob_backend: {backend!r} is not one of {', '.join(BLOB_BACKENDS)}"]
    if backend != "s3":
        return []
    problems = []
    if not settings.s3_bucket:
        problems.append("s3_bucket: the s3 blob backend needs a bucket")
    if settings.s3_endpoint_url is not None:
        problems.extend(_url_problems("s3_endpoint_url", settings.s3_endpoint_url))
    if importlib.util.find_spec("boto3") is None:
        problems.append("blob_backend: the boto3 package is not installed (pip install boto3)")
    if settings.x_accel_redirect_prefix is not None:
        # nginx can only send files it can read: objects in a bucket are streamed by the hub.
        problems.append(
            "x_accel_redirect_prefix: the download offload serves files of the fs blob "
            "backend; unset it with blob_backend = s3"
        )
    return problems


def _spaces_problems(settings: Settings) -> list[str]:
    problems = []
    if settings.spaces_runner not in SPACE_RUNNERS:
        problems.append(
            f"spaces_runner: {settings.spaces_runner!r} is not one of {', '.join(SPACE_RUNNERS)}"
        )
    if not 0 <= settings.spaces_nice <= 19:
        problems.append(f"spaces_nice: {settings.spaces_nice} is not between 0 and 19")
    last_uid = settings.spaces_uid_base + settings.spaces_uid_count
    if settings.spaces_uid_base <= 0 or last_uid > _MAX_UID:
        problems.append(
            f"spaces_uid_base: the ids up to {last_uid} are not between 1 and {_MAX_UID}"
        )
    builder = settings.spaces_builder_uid
    if builder is not None and (
        not 0 < builder <= _MAX_UID or settings.spaces_uid_base < builder <= last_uid
    ):
        problems.append(
            f"spaces_builder_uid: {builder} is not between 1 and {_MAX_UID} or is an app's "
            f"(spaces_uid_base + 1 to {last_uid})"
        )
    data_dir = settings.resolved_data_dir
    for key, directory in (
        ("spaces_dir", settings.effective_spaces_dir),
        ("spaces_env_dir", settings.effective_spaces_env_dir),
    ):
        if directory == data_dir or data_dir in directory.parents:
            problems.append(
                f"{key}: {directory} is inside the data dir, which Space apps must not reach"
            )
    docker = settings.spaces_docker_host
    if docker is not None:
        parts = urlsplit(docker)
        # A TCP engine is root on its machine for whoever reaches its port: sockets alone.
        if parts.scheme != "unix" or parts.netloc or not parts.path.startswith("/"):
            problems.append(
                f"spaces_docker_host: {docker!r} is not a unix socket address such as "
                "unix:///var/run/docker.sock"
            )
    if not _DOCKER_PREFIX.fullmatch(settings.spaces_docker_prefix):
        problems.append(
            f"spaces_docker_prefix: {settings.spaces_docker_prefix!r} is not lowercase letters, "
            "digits and inner '-' (at most 40), as image names need"
        )
    domain = settings.spaces_domain
    if domain is not None and not _DOMAIN.fullmatch(domain):
        problems.append(
            f"spaces_domain: {domain!r} is not a domain name such as spaces.example.com "
            "(no scheme, port or path)"
        )
    return problems


def _allow_problem(entry: str) -> str | None:
    """Why `entry` is not a host name, an address or a CIDR network; None when it is one."""
    try:
        ipaddress.ip_network(entry, strict=False)
    except ValueError:
        labels = entry.rstrip(".").split(".")
        if not entry or not all(_HOST_LABEL.fullmatch(label) for label in labels):
            return f"{entry!r} is not a host name, an address or a CIDR network"
    return None


def _url_problems(key: str, url: str) -> list[str]:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (parsing the port is the check)
    except ValueError:
        return [f"{key}: {url!r} is not a valid URL"]
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [f"{key}: {url!r} is not an http(s) URL with a host"]
    if parts.query or parts.fragment:
        return [f"{key}: {url!r} must not have a query or fragment"]
    return []


def _redis_url_problems(url: str) -> list[str]:
    # The URL is not echoed: it may hold a password.
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (parsing the port is the check)
    except ValueError:
        return ["redis_url: cannot parse it as redis://[:password@]host[:port][/db]"]
    if parts.scheme not in ("redis", "rediss", "unix"):
        return [f"redis_url: the scheme {parts.scheme!r} is not redis, rediss or unix"]
    if parts.scheme != "unix" and not parts.hostname:
        return ["redis_url: no host in it (redis://host:6379/0)"]
    if importlib.util.find_spec("arq") is None:
        return ["redis_url: the arq package is not installed (pip install 'hubstead[redis]')"]
    return []


def _database_url_problems(url: str) -> list[str]:
    # The URL is not echoed: it may hold a password.
    try:
        parsed = sa.engine.make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        return ["database_url: cannot parse it as dialect+driver://user:password@host/database"]
    dialect = parsed.get_backend_name()
    if dialect not in _DATABASE_DIALECTS:
        return [f"database_url: {dialect!r} is not supported (use sqlite or postgresql)"]
    try:
        parsed.get_dialect()
    except sa.exc.NoSuchModuleError:
        return [f"database_url: the driver {parsed.drivername!r} is not installed"]
    return []


def _data_dir_problems(data_dir: Path) -> list[str]:
    """Whether the data dir is (or can be created as) a writable directory."""
    path = data_dir.expanduser().absolute()
    if path.exists() and not path.is_dir():
        return [f"data_dir: {path} exists and is not a directory"]
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        return [f"data_dir: {existing} is not a directory, so {path} cannot be created"]
    if not os.access(existing, os.W_OK | os.X_OK):
        return [f"data_dir: {existing} is not writable"]
    return []
