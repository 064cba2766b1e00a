"""`/api/models-tags-by-type` and `/api/datasets-tags-by-type` over raw HTTP."""

from __future__ import annotations

import httpx

from tests.helpers.live_server import LiveServer


def test_the_vocabularies_answer_anonymous_callers_with_a_json_object(
    live_server: LiveServer,
) -> None:
    for kind in ("models", "datasets"):
        response = httpx.get(f"{live_server.url}/api/{kind}-tags-by-type")

        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert isinstance(response.json(), dict)


def test_spaces_have_no_vocabulary_and_other_methods_are_refused(
    live_server: LiveServer,
) -> None:
    spaces = httpx.get(f"{live_server.url}/api/spaces-tags-by-type")
    posted = httpx.post(f"{live_server.url}/api/models-tags-by-type")

    assert spaces.status_code == 404
    assert spaces.headers["X-Error-Code"] == "EndpointNotFound"
    assert posted.status_code == 405
    assert set(posted.headers["Allow"].split(", ")) == {"GET", "HEAD"}
