"""The indexed router picks the route Starlette's scan of every route would pick.

`IndexedRouter` skips routes whose fixed segments a path does not have. For every route of the
hub, paths are built from its pattern with parameter values chosen to look like other routes'
segments (`resolve`, `api`, `discussions`, a `.git` name, multi-segment paths), and for each
method the route takes, the first full match among the index's candidates must be the first
full match among all routes. Then the rare cases left to Starlette, over HTTP.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import httpx
import pytest
from starlette.routing import BaseRoute, Match, Mount, Route

from hubstead.server.app import create_app
from hubstead.server.http.router import IndexedRouter
from hubstead.server.settings import load_settings
from tests.helpers.accounts import HubUser

_PARAMETER = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)(?::([a-zA-Z_][a-zA-Z0-9_]*))?\}")
# Values that are other routes' fixed segments, or shapes that could confuse a segment count.
_ONE_SEGMENT = ["alice", "resolve", "api", "discussions", "w.git", "3"]
_MANY_SEGMENTS = ["", "a/b", "resolve/main/x", "refs%2Fpr%2F1/f.txt"]
_BY_CONVERTOR = {
    "path": _MANY_SEGMENTS,
    "repo_type": ["models", "datasets", "spaces", "kernels"],
    "int": ["3"],
}


def _paths(pattern: str) -> list[str]:
    """The pattern with every combination of sample values (capped), as request paths."""
    parameters = _PARAMETER.findall(pattern)
    choices = [_BY_CONVERTOR.get(convertor, _ONE_SEGMENT) for _, convertor in parameters]
    pieces = _PARAMETER.split(pattern)[:: _PARAMETER.groups + 1]
    return [
        "".join(itertools.chain.from_iterable(itertools.zip_longest(pieces, values, fillvalue="")))
        for values in itertools.islice(itertools.product(*choices), 40)
    ]


def _first_full(routes: list[BaseRoute], path: str, method: str) -> BaseRoute | None:
    scope = {"type": "http", "path": path, "root_path": "", "method": method}
    for route in routes:
        if route.matches(scope)[0] is Match.FULL:
            return route
    return None


@pytest.fixture(scope="module")
def router(tmp_path_factory: pytest.TempPathFactory) -> IndexedRouter:
    data_dir: Path = tmp_path_factory.mktemp("router")
    app = create_app(load_settings({"data_dir": data_dir}, environ={}))
    assert isinstance(app.router, IndexedRouter)
    app.state.services.close()
    return app.router


def test_every_route_is_found_where_a_scan_of_all_routes_finds_it(router: IndexedRouter) -> None:
    checked = 0
    for route in router.routes:
        if isinstance(route, Route):
            pattern, methods = route.path, sorted(route.methods or {"GET"})
        elif isinstance(route, Mount):
            pattern, methods = route.path + "/{rest:path}", ["GET"]
        else:
            continue
        for path, method in itertools.product(_paths(pattern), methods):
            expected = _first_full(router.routes, path, method)
            found = _first_full(list(router.index.candidates(path)), path, method)
            assert found is expected, f"{method} {path}: {found} instead of {expected}"
            checked += 1
    assert checked > 3000  # every route, with many values each


def test_candidates_are_few_for_the_requests_clients_send_most(router: IndexedRouter) -> None:
    for path in (
        "/alice/weights/resolve/main/model.safetensors",
        "/api/models/alice/weights",
        "/api/models/alice/weights/revision/main",
        "/datasets/alice/data/resolve/main/train.parquet",
    ):
        assert len(list(router.index.candidates(path))) <= 12, path


def test_a_known_path_with_the_wrong_method_is_405_and_an_unknown_one_404(
    http: httpx.Client, user: HubUser
) -> None:
    wrong_method = http.put(f"/api/models/{user.name}/anything/revision/main")
    unknown = http.get("/api/nothing-here/at/all")
    slash = http.get("/api/whoami-v2/", follow_redirects=False)

    assert wrong_method.status_code == 405
    assert unknown.status_code == 404
    assert unknown.headers["x-error-code"] == "EndpointNotFound"
    assert slash.status_code == 307  # Starlette's trailing-slash redirect, as before
    assert slash.headers["location"].endswith("/api/whoami-v2")
