"""The Redis on this machine (127.0.0.1:6379), for the arq job queue; started if it is down."""

from __future__ import annotations

import shutil
import subprocess
import time

import redis

REDIS_URL = "redis://127.0.0.1:6379/0"
_START = [
    "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379", "--save", "",
    "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log",
]  # fmt: skip


def _answers() -> bool:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except redis.exceptions.ConnectionError:
        return False
    finally:
        client.close()


def redis_url() -> str:
    """The URL of the local Redis, starting it first (the env notes' command) if it is down."""
    if _answers():
        return REDIS_URL
    server = shutil.which("redis-server")
    if server is None:
        raise RuntimeError("Redis is not running and redis-server is not installed")
    subprocess.run([server, *_START], check=True)
    deadline = time.monotonic() + 10
    while not _answers():
        if time.monotonic() > deadline:
            raise RuntimeError("redis-server was started but does not answer")
        time.sleep(0.05)
    return REDIS_URL


def drop_queue(queue_name: str) -> None:
    """Delete what an arq queue left in Redis (a test's own queue)."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.delete(queue_name, f"{queue_name}:health-check")
    finally:
        client.close()
