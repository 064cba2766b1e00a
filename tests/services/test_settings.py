"""Server settings: sources and their precedence, validation, help and redaction."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from hubstead.server.settings import Settings, SettingsError, load_settings, settings_help


def write_config(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_work_without_any_source() -> None:
    settings = load_settings(environ={})

    assert settings.host == "127.0.0.1"
    assert settings.port == 8080
    assert settings.public_url is None
    assert settings.log_level == "info"
    assert settings.resolved_data_dir == Path("~/.local/share/hubstead").expanduser().resolve()
    assert settings.effective_database_url == (
        f"sqlite:///{settings.resolved_data_dir / 'hubstead.sqlite3'}"
    )


def test_flag_beats_environment_beats_file_beats_default(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "hub.toml",
        'host = "10.0.0.1"\nport = 9001\nlog_level = "warning"\npublic_url = "http://file.test"\n',
    )
    environ = {"HUBSTEAD_PORT": "9002", "HUBSTEAD_LOG_LEVEL": "error", "HUBSTEAD_HOST": ""}

    settings = load_settings(
        {"log_level": "debug", "port": None}, config_file=config, environ=environ
    )

    assert settings.log_level == "debug"  # flag over environment and file
    assert settings.port == 9002  # environment over file; a None flag is "not given"
    assert settings.host == "10.0.0.1"  # file over default; an empty variable is "not set"
    assert settings.public_url == "http://file.test"
    assert settings.max_json_bytes == Settings.max_json_bytes  # default


def test_every_setting_reads_its_hubstead_variable(tmp_path: Path) -> None:
    environ = {
        "HUBSTEAD_DATA_DIR": str(tmp_path / "data"),
        "HUBSTEAD_HOST": "0.0.0.0",
        "HUBSTEAD_PORT": "0",
        "HUBSTEAD_WORKERS": "3",
        "HUBSTEAD_PUBLIC_URL": "https://hub.example.test",
        "HUBSTEAD_DATABASE_URL": "postgresql+psycopg://hub@db.example.test/hub",
        "HUBSTEAD_MAX_JSON_BYTES": "1",
        "HUBSTEAD_MAX_COMMIT_BYTES": "2",
        "HUBSTEAD_MAX_REGULAR_FILE_BYTES": "3",
        "HUBSTEAD_LFS_THRESHOLD_BYTES": "4",
        "HUBSTEAD_LFS_MULTIPART_THRESHOLD_BYTES": "5",
        "HUBSTEAD_LFS_CHUNK_BYTES": "6",
        "HUBSTEAD_LFS_URL_TTL_SECONDS": "7",
        "HUBSTEAD_MAX_LFS_OBJECT_BYTES": "8",
        "HUBSTEAD_X_ACCEL_REDIRECT_PREFIX": "/_blobs/",
        "HUBSTEAD_SPACES_DOMAIN": "Spaces.Example.Test",
        "HUBSTEAD_XET_CAS_URL": "https://cas.example.test/",
        "HUBSTEAD_XET_TOKEN_TTL_SECONDS": "16",
        "HUBSTEAD_XET_URL_TTL_SECONDS": "17",
        "HUBSTEAD_XET_XORB_GRACE_SECONDS": "18",
        "HUBSTEAD_SECRET_FILE": str(tmp_path / "key"),
        "HUBSTEAD_LOG_LEVEL": "WARNING",
        "HUBSTEAD_REDIS_URL": "redis://127.0.0.1:6379/3",
        "HUBSTEAD_REDIS_QUEUE": "hub-jobs",
        "HUBSTEAD_JOB_THREADS": "8",
        "HUBSTEAD_JOB_POLL_SECONDS": "9",
        "HUBSTEAD_PULL_THROUGH": "https://huggingface.co/",
        "HUBSTEAD_UPSTREAM_TOKEN": "hf_upstream",
        "HUBSTEAD_PULL_THROUGH_ALLOW": "google/*, datasets/*",
        "HUBSTEAD_PULL_THROUGH_DENY": "*/private-*",
        "HUBSTEAD_PULL_THROUGH_REFRESH_SECONDS": "0",
        "HUBSTEAD_MIRROR_CONCURRENCY": "10",
        "HUBSTEAD_WEBHOOK_ALLOW": "127.0.0.1, 10.1.0.0/16, ci.internal",
        "HUBSTEAD_WEBHOOK_TIMEOUT_SECONDS": "19",
        "HUBSTEAD_WEBHOOK_MAX_ATTEMPTS": "20",
        "HUBSTEAD_SPACE_LOG_LINES": "27",
        "HUBSTEAD_SESSION_DAYS": "21",
        "HUBSTEAD_SIGN_IN_ACCOUNT_ATTEMPTS": "22",
        "HUBSTEAD_SIGN_IN_ADDRESS_ATTEMPTS": "23",
        "HUBSTEAD_SIGN_IN_WINDOW_SECONDS": "24",
        "HUBSTEAD_DEVICE_CODE_SECONDS": "25",
        "HUBSTEAD_DEVICE_POLL_SECONDS": "26",
        "HUBSTEAD_MAX_FETCH_REQUEST_BYTES": "11",
        "HUBSTEAD_MAX_HEADER_BYTES": "12",
        "HUBSTEAD_MAX_HEADER_COUNT": "13",
        "HUBSTEAD_HEADER_TIMEOUT_SECONDS": "14",
        "HUBSTEAD_MAX_CONNECTIONS": "15",
        "HUBSTEAD_BLOB_BACKEND": "FS",
        "HUBSTEAD_S3_BUCKET": "hub-blobs",
        "HUBSTEAD_S3_PREFIX": "/site/a/",
        "HUBSTEAD_S3_ENDPOINT_URL": "https://s3.example.test/",
        "HUBSTEAD_S3_REGION": "eu-west-3",
        "HUBSTEAD_S3_URL_TTL_SECONDS": "0",
        "HUBSTEAD_SPACES_RUNNER": "none",
        "HUBSTEAD_SPACES_DIR": str(tmp_path / "spaces"),
        "HUBSTEAD_SPACES_ENV_DIR": str(tmp_path / "spaces-envs"),
        "HUBSTEAD_SPACES_PYTHON": "3.12",
        "HUBSTEAD_SPACES_INDEX_URL": "https://pypi.internal/simple",
        "HUBSTEAD_SPACES_FIND_LINKS": "/srv/wheels, https://wheels.internal/",
        "HUBSTEAD_SPACES_NO_INDEX": "yes",
        "HUBSTEAD_SPACES_UID_BASE": "27",
        "HUBSTEAD_SPACES_UID_COUNT": "28",
        "HUBSTEAD_SPACES_BUILDER_UID": "26",
        "HUBSTEAD_SPACES_ALLOW_SAME_USER": "TRUE",
        "HUBSTEAD_SPACES_MEMORY_BYTES": "29",
        "HUBSTEAD_SPACES_OPEN_FILES": "30",
        "HUBSTEAD_SPACES_PROCESSES": "31",
        "HUBSTEAD_SPACES_NICE": "19",
        "HUBSTEAD_SPACES_START_TIMEOUT_SECONDS": "32",
        "HUBSTEAD_SPACES_DOCKER_HOST": "unix:///run/podman/podman.sock",
        "HUBSTEAD_SPACES_DOCKER_PREFIX": "hub-2",
    }

    settings = load_settings(environ=environ)

    assert {f"HUBSTEAD_{f.name.upper()}" for f in dataclasses.fields(Settings)} == set(environ)
    assert settings.data_dir == tmp_path / "data"
    assert settings.host == "0.0.0.0"
    assert settings.port == 0
    assert settings.workers == 3
    assert settings.public_url == "https://hub.example.test"
    assert settings.effective_database_url == "postgresql+psycopg://hub@db.example.test/hub"
    assert (
        settings.max_json_bytes,
        settings.max_commit_bytes,
        settings.max_regular_file_bytes,
        settings.lfs_threshold_bytes,
        settings.lfs_multipart_threshold_bytes,
        settings.lfs_chunk_bytes,
        settings.lfs_url_ttl_seconds,
        settings.max_lfs_object_bytes,
    ) == (1, 2, 3, 4, 5, 6, 7, 8)
    assert settings.x_accel_redirect_prefix == "/_blobs/"
    assert settings.spaces_domain == "spaces.example.test"
    assert settings.xet_cas_url == "https://cas.example.test"
    assert (
        settings.xet_token_ttl_seconds,
        settings.xet_url_ttl_seconds,
        settings.xet_xorb_grace_seconds,
    ) == (16, 17, 18)
    assert settings.effective_secret_file == tmp_path / "key"
    assert settings.log_level == "warning"
    assert (settings.redis_url, settings.redis_queue) == ("redis://127.0.0.1:6379/3", "hub-jobs")
    assert (settings.job_threads, settings.job_poll_seconds) == (8, 9)
    assert settings.webhook_allow == ("127.0.0.1", "10.1.0.0/16", "ci.internal")
    assert (settings.webhook_timeout_seconds, settings.webhook_max_attempts) == (19, 20)
    assert settings.space_log_lines == 27
    assert (
        settings.session_days,
        settings.sign_in_account_attempts,
        settings.sign_in_address_attempts,
        settings.sign_in_window_seconds,
        settings.device_code_seconds,
        settings.device_poll_seconds,
    ) == (21, 22, 23, 24, 25, 26)
    assert (settings.pull_through, settings.upstream_token) == (
        "https://huggingface.co",
        "hf_upstream",
    )
    assert settings.pull_through_allow == ("google/*", "datasets/*")
    assert settings.pull_through_deny == ("*/private-*",)
    assert (settings.pull_through_refresh_seconds, settings.mirror_concurrency) == (0, 10)
    assert (
        settings.max_fetch_request_bytes,
        settings.max_header_bytes,
        settings.max_header_count,
        settings.header_timeout_seconds,
        settings.max_connections,
    ) == (11, 12, 13, 14, 15)
    assert (
        settings.blob_backend,
        settings.s3_bucket,
        settings.s3_prefix,
        settings.s3_endpoint_url,
        settings.s3_region,
        settings.s3_url_ttl_seconds,
    ) == ("fs", "hub-blobs", "site/a", "https://s3.example.test", "eu-west-3", 0)
    assert settings.spaces_runner == "none"
    assert settings.effective_spaces_dir == tmp_path / "spaces"
    assert settings.effective_spaces_env_dir == tmp_path / "spaces-envs"
    assert (settings.spaces_python, settings.spaces_index_url) == (
        "3.12",
        "https://pypi.internal/simple",
    )
    assert settings.spaces_find_links == ("/srv/wheels", "https://wheels.internal/")
    assert settings.spaces_no_index is settings.spaces_allow_same_user is True
    assert (
        settings.spaces_uid_base,
        settings.spaces_uid_count,
        settings.spaces_builder_uid,
        settings.spaces_memory_bytes,
        settings.spaces_open_files,
        settings.spaces_processes,
        settings.spaces_nice,
        settings.spaces_start_timeout_seconds,
    ) == (27, 28, 26, 29, 30, 31, 19, 32)
    assert settings.spaces_docker_socket == Path("/run/podman/podman.sock")
    assert settings.spaces_docker_prefix == "hub-2"


def test_pull_through_settings_are_checked_and_lists_come_from_toml(tmp_path: Path) -> None:
    config = tmp_path / "hub.toml"
    config.write_text('pull_through_allow = ["a/*", "b/*"]\n')

    assert load_settings(config_file=config, environ={}).pull_through_allow == ("a/*", "b/*")
    with pytest.raises(SettingsError) as caught:
        load_settings(
            {"pull_through": "ftp://mirror.test", "pull_through_refresh_seconds": -1}, environ={}
        )
    assert "pull_through: 'ftp://mirror.test' is not an http(s) URL" in str(caught.value)
    assert "pull_through_refresh_seconds: must not be negative" in str(caught.value)
    config.write_text("pull_through_deny = [1]\n")
    with pytest.raises(SettingsError, match="pull_through_deny: expected a list of strings"):
        load_settings(config_file=config, environ={})


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:6379", "redis://", "redis://host:port", "127.0.0.1:6379"]
)
def test_redis_url_must_be_a_redis_url(url: str) -> None:
    with pytest.raises(SettingsError, match=r"redis_url: "):
        load_settings({"redis_url": url}, environ={})


@pytest.mark.parametrize("prefix", ["_blobs/", "/_blobs", "/", "/a b/", "/x?y/"])
def test_x_accel_redirect_prefix_must_be_a_location_path(prefix: str) -> None:
    with pytest.raises(SettingsError, match=r"x_accel_redirect_prefix: .* starts and ends"):
        load_settings({"x_accel_redirect_prefix": prefix}, environ={})


@pytest.mark.parametrize(
    "domain", ["https://spaces.example.com", "spaces.example.com:8443", "spaces", "a b.c", "x/y.z"]
)
def test_spaces_domain_must_be_a_domain_name(domain: str) -> None:
    with pytest.raises(SettingsError, match=r"spaces_domain: .* is not a domain name"):
        load_settings({"spaces_domain": domain}, environ={})


def test_spaces_domain_is_kept_lowercase_without_a_final_dot() -> None:
    settings = load_settings({"spaces_domain": "Spaces.Example.COM."}, environ={})
    assert settings.spaces_domain == "spaces.example.com"


def test_relative_data_dir_in_config_file_is_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    config = write_config(tmp_path / "etc" / "hub.toml", 'data_dir = "../var/hub"\n')

    settings = load_settings(config_file=config, environ={})

    assert settings.resolved_data_dir == (tmp_path / "var" / "hub").resolve()


def test_the_s3_blob_backend_needs_a_bucket_and_no_download_offload() -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(
            {
                "blob_backend": "s3",
                "s3_endpoint_url": "minio:9000",
                "x_accel_redirect_prefix": "/_blobs/",
                "s3_url_ttl_seconds": -1,
            },
            environ={},
        )
    message = str(raised.value)
    assert "s3_url_ttl_seconds: must not be negative" in message
    assert "s3_bucket: the s3 blob backend needs a bucket" in message
    assert "s3_endpoint_url: 'minio:9000' is not an http(s) URL" in message
    assert "x_accel_redirect_prefix: the download offload serves files of the fs" in message


def test_an_unknown_blob_backend_is_refused() -> None:
    with pytest.raises(SettingsError, match="blob_backend: 'gcs' is not one of fs, s3"):
        load_settings({"blob_backend": "gcs"}, environ={})


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    config = write_config(tmp_path / "hub.toml", 'colour = "blue"\nport = 70000\n')
    environ = {"HUBSTEAD_MAX_JSON_BYTES": "lots"}

    with pytest.raises(SettingsError) as caught:
        load_settings(
            {"public_url": "ftp://hub.example.test", "log_level": "loud"},
            config_file=config,
            environ=environ,
        )

    message = str(caught.value)
    assert "unknown setting 'colour'" in message
    assert str(config) in message
    assert "port: 70000 is not between 0 and 65535" in message
    assert "public_url" in message
    assert "max_json_bytes: expected an integer, got 'lots'" in message
    assert "log_level: 'loud'" in message


@pytest.mark.parametrize(
    "toml",
    ['port = "eighty"', "port = true", "port = 80.5", "host = 127", "data_dir = [1]"],
)
def test_wrongly_typed_values_in_the_file_are_rejected(tmp_path: Path, toml: str) -> None:
    config = write_config(tmp_path / "hub.toml", toml + "\n")

    with pytest.raises(SettingsError, match=r"(port|host|data_dir): expected"):
        load_settings(config_file=config, environ={})


@pytest.mark.parametrize(
    "url",
    [
        "hub.example.test",
        "ftp://hub.example.test",
        "http://",
        "http://hub.example.test:99999",
        "https://hub.example.test/?x=1",
        "https://hub.example.test/#top",
    ],
)
def test_public_url_must_be_a_plain_http_url(url: str) -> None:
    with pytest.raises(SettingsError, match="public_url"):
        load_settings({"public_url": url}, environ={})


def test_public_url_may_have_a_path_and_loses_its_trailing_slash() -> None:
    settings = load_settings({"public_url": "https://example.test/hub/"}, environ={})

    assert settings.public_url == "https://example.test/hub"


def test_database_url_must_be_sqlite_or_postgresql_and_its_password_is_not_echoed() -> None:
    with pytest.raises(SettingsError, match="'mysql' is not supported"):
        load_settings({"database_url": "mysql://hub:pw@db/hub"}, environ={})
    with pytest.raises(SettingsError, match="cannot parse") as caught:
        load_settings({"database_url": "postgresql://hub:s3cret@db:port/hub"}, environ={})
    assert "s3cret" not in str(caught.value)
    with pytest.raises(SettingsError, match="'postgresql\\+nosuch' is not installed"):
        load_settings({"database_url": "postgresql+nosuch://hub@db/hub"}, environ={})


def test_data_dir_that_is_a_file_is_rejected(tmp_path: Path) -> None:
    occupied = tmp_path / "occupied"
    occupied.write_text("not a directory")

    with pytest.raises(SettingsError, match="exists and is not a directory"):
        load_settings({"data_dir": occupied}, environ={})
    with pytest.raises(SettingsError, match="cannot be created"):
        load_settings({"data_dir": occupied / "below"}, environ={})


def test_unreadable_or_malformed_config_file_is_a_settings_error(tmp_path: Path) -> None:
    broken = write_config(tmp_path / "broken.toml", "port = \n")

    with pytest.raises(SettingsError, match="cannot read"):
        load_settings(config_file=broken, environ={})
    with pytest.raises(SettingsError, match="cannot read"):
        load_settings(config_file=tmp_path / "missing.toml", environ={})


def test_unknown_override_key_is_rejected() -> None:
    with pytest.raises(SettingsError, match="unknown setting 'colour'"):
        load_settings({"colour": "blue"}, environ={})


def test_redacted_hides_the_database_url_only_when_set() -> None:
    with_secret = load_settings({"database_url": "postgresql://hub:pw@db/hub"}, environ={})
    without = load_settings(environ={})

    assert with_secret.redacted()["database_url"] == "********"
    assert "pw" not in str(with_secret.redacted())
    assert without.redacted()["database_url"] == "None"
    assert without.redacted()["port"] == "8080"


def test_settings_help_lists_every_setting_in_order() -> None:
    rows = settings_help()

    assert [r.key for r in rows] == [f.name for f in dataclasses.fields(Settings)]
    assert all(r.env == f"HUBSTEAD_{r.key.upper()}" and r.help for r in rows)
    assert {r.key: r.default for r in rows}["port"] == "8080"


@pytest.mark.parametrize(
    "entry", ["not a host", "-bad.example", "http://ci.internal", "10.0.0.0/33"]
)
def test_webhook_allow_entries_must_be_hosts_addresses_or_networks(entry: str) -> None:
    with pytest.raises(SettingsError, match=r"webhook_allow: .* is not a host name, an address"):
        load_settings({"webhook_allow": (entry,)}, environ={})


def test_webhook_limits_must_be_positive() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"webhook_timeout_seconds": 0, "webhook_max_attempts": 0}, environ={})
    assert "webhook_timeout_seconds: must be positive" in str(caught.value)
    assert "webhook_max_attempts: must be positive" in str(caught.value)


def test_workers_must_be_positive() -> None:
    with pytest.raises(SettingsError, match="workers: must be positive"):
        load_settings({"workers": 0}, environ={})


def test_the_spaces_dir_is_beside_the_data_dir_and_never_inside_it(tmp_path: Path) -> None:
    settings = load_settings({"data_dir": tmp_path / "data"}, environ={})
    assert settings.effective_spaces_dir == tmp_path / "data-spaces"
    assert settings.effective_spaces_env_dir == tmp_path / "data-spaces"

    for key in ("spaces_dir", "spaces_env_dir"):
        with pytest.raises(SettingsError, match=rf"{key}: .* is inside the data dir"):
            load_settings(
                {"data_dir": tmp_path / "data", key: tmp_path / "data" / "spaces"}, environ={}
            )


def test_the_builder_is_no_app_user() -> None:
    with pytest.raises(SettingsError, match="spaces_builder_uid: 1001 is not between 1 and"):
        load_settings(
            {"spaces_uid_base": 1000, "spaces_uid_count": 10, "spaces_builder_uid": 1001},
            environ={},
        )
    settings = {"spaces_uid_base": 1000, "spaces_uid_count": 10, "spaces_builder_uid": 999}
    assert load_settings(settings, environ={}).spaces_builder_uid == 999


def test_an_unknown_space_runner_is_refused() -> None:
    with pytest.raises(SettingsError, match="spaces_runner: 'docker' is not one of local, none"):
        load_settings({"spaces_runner": "docker"}, environ={})


@pytest.mark.parametrize(
    "host", ["tcp://127.0.0.1:2375", "unix://relative.sock", "/var/run/docker.sock", "unix://"]
)
def test_a_docker_engine_is_reached_over_a_unix_socket_only(host: str) -> None:
    with pytest.raises(SettingsError, match=r"spaces_docker_host: .* is not a unix socket address"):
        load_settings({"spaces_docker_host": host}, environ={})


def test_no_docker_engine_is_configured_by_default_nor_by_an_empty_variable() -> None:
    settings = load_settings(environ={"HUBSTEAD_SPACES_DOCKER_HOST": ""})

    assert settings.spaces_docker_socket is None


@pytest.mark.parametrize("prefix", ["", "Hub", "-hub", "hub-", "hub.a", "hub/a", "h" * 41])
def test_a_docker_prefix_must_name_containers(prefix: str) -> None:
    with pytest.raises(SettingsError, match=r"spaces_docker_prefix: .* is not lowercase letters"):
        load_settings({"spaces_docker_prefix": prefix}, environ={})


def test_space_limits_and_switches_are_checked() -> None:
    environ = {
        "HUBSTEAD_SPACES_NO_INDEX": "perhaps",
        "HUBSTEAD_SPACES_NICE": "20",
        "HUBSTEAD_SPACES_OPEN_FILES": "0",
        "HUBSTEAD_SPACES_UID_BASE": "4294967000",
    }

    with pytest.raises(SettingsError) as error:
        load_settings(environ=environ)

    message = str(error.value)
    assert "spaces_no_index: expected true or false, got 'perhaps'" in message
    assert "spaces_nice: 20 is not between 0 and 19" in message
    assert "spaces_open_files: must be positive" in message
    assert "spaces_uid_base: the ids up to" in message
