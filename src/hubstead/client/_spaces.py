"""`HfApi` methods about a Space's runtime, with `huggingface_hub`'s names.

Anyone who may see a Space may read its runtime; its logs, restarts, pauses and sleep time
need write access. Logs come as server-sent events (`data: {"data", "timestamp"}`): without
`follow` the stream ends after the log so far; with it, new lines come until the caller stops.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from hubstead.client import models
from hubstead.client._api_base import ApiBase
from hubstead.client._http import raise_for_status
from hubstead.client._urls import api_repo_path


class SpaceMethods(ApiBase):
    """Space runtime methods of `HfApi`."""

    def get_space_runtime(
        self, repo_id: str, *, token: bool | str | None = None
    ) -> models.SpaceRuntime:
        """The Space's runtime: its stage, hardware and sleep time.

        Raises:
            RepositoryNotFoundError: no such Space (or not visible to you).
        """
        answer = self._get(f"{api_repo_path('space', repo_id)}/runtime", token=token)
        return models.SpaceRuntime.from_json(answer)

    def restart_space(
        self, repo_id: str, *, token: bool | str | None = None, factory_reboot: bool = False
    ) -> models.SpaceRuntime:
        """Build the Space again and start it (`factory_reboot`: without any cache).

        Raises:
            RepositoryNotFoundError: no such Space (or not visible to you).
            HfHubHTTPError: no write access (403).
        """
        path = f"{api_repo_path('space', repo_id)}/restart"
        if factory_reboot:
            path += "?factory=true"
        return models.SpaceRuntime.from_json(self._send("POST", path, token=token))

    def pause_space(self, repo_id: str, *, token: bool | str | None = None) -> models.SpaceRuntime:
        """Stop the Space's app until it is restarted (commits do not build it meanwhile).

        Raises:
            RepositoryNotFoundError: no such Space (or not visible to you).
            HfHubHTTPError: no write access (403).
        """
        answer = self._send("POST", f"{api_repo_path('space', repo_id)}/pause", token=token)
        return models.SpaceRuntime.from_json(answer)

    def set_space_sleep_time(
        self, repo_id: str, sleep_time: int, *, token: bool | str | None = None
    ) -> models.SpaceRuntime:
        """Stop the app after `sleep_time` seconds without requests (-1: never).

        Raises:
            RepositoryNotFoundError: no such Space (or not visible to you).
            BadRequestError: a sleep time the hub does not accept (hubstead: at least 60 s).
            HfHubHTTPError: no write access (403).
        """
        answer = self._send(
            "POST",
            f"{api_repo_path('space', repo_id)}/sleeptime",
            token=token,
            json={"seconds": sleep_time},
        )
        return models.SpaceRuntime.from_json(answer)

    def fetch_space_logs(
        self,
        repo_id: str,
        *,
        build: bool = False,
        follow: bool = False,
        token: bool | str | None = None,
    ) -> Iterator[str]:
        """The lines of the Space's run log (`build`: of its last build), newline included.

        With `follow`, new lines are yielded as they come, until the caller stops iterating.

        Raises:
            RepositoryNotFoundError: no such Space (or not visible to you).
            HfHubHTTPError: no write access (403).
        """
        kind = "build" if build else "run"
        url = self.session.url(f"{api_repo_path('space', repo_id)}/logs/{kind}")
        if not follow:
            url += "?follow=false"
        response = self.session.stream("GET", url, token=token, timeout=None)
        try:
            if response.is_error:
                response.read()
                raise_for_status(response, f"fetch the logs of {repo_id}")
            for line in response.iter_lines():
                if line.startswith("data: {"):
                    yield str(json.loads(line[len("data: ") :])["data"])
        finally:
            response.close()

    def wait_for_space(
        self,
        repo_id: str,
        *,
        timeout: float | None = None,
        poll_interval: float = 1.0,
        token: bool | str | None = None,
    ) -> models.SpaceRuntime:
        """Poll the runtime until the Space's stage no longer changes by itself.

        Raises:
            TimeoutError: it still changes after `timeout` seconds.
            RepositoryNotFoundError: no such Space (or not visible to you).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            runtime = self.get_space_runtime(repo_id, token=token)
            if runtime.stage not in models.TRANSITIONAL_SPACE_STAGES:
                return runtime
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(
                    f"Space '{repo_id}' is still {runtime.stage} after {timeout} seconds"
                )
            time.sleep(poll_interval)
