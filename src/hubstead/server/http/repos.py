"""Repo endpoints.

Serves: `POST /api/repos/create`, `DELETE /api/repos/delete`, `POST /api/repos/move`,
`POST /api/{T}/{repo}/duplicate`, `GET /api/models/{repo}/safetensors-metadata/{path}`,
`GET /api/models-tags-by-type`, `GET /api/datasets-tags-by-type`,
`PUT /api/{T}/{repo}/settings`, `GET /api/{T}/{repo}`, `GET /api/{T}/{repo}/revision/{rev}`,
`GET /api/{T}/{repo}/auth-check[/write]`, and the listings `GET /api/models|datasets|spaces`.
`GET /api/{T}/{name}` answers RepoNotFound: every repo here has a namespace.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hubstead.protocol import DEFAULT_BRANCH, RepoType
from hubstead.server import errors
from hubstead.server.domain.repos import RepoQuery
from hubstead.server.domain.space_env import EnvInput
from hubstead.server.http import payloads
from hubstead.server.http.context import (
    body_repo_type,
    body_string,
    call,
    decode_cursor,
    flag,
    identity,
    int_param,
    next_link,
    optional_body_string,
    param,
    query_list,
    read_json_object,
    repo_id,
    repo_type,
    repo_url,
    services,
)
from hubstead.server.http.paths import API_REPO, API_REPOS
from hubstead.server.http.spaces import space_volumes
from hubstead.server.services.access import Action
from hubstead.server.services.auth import Identity
from hubstead.server.services.catalog import Details, ListedRepo, RepoInfo
from hubstead.server.services.repos import RepoSettingsChange
from hubstead.server.services.spaces.templates import TEMPLATES, SpaceTemplate, find_template

_PAGE_SIZE = 1000
_SORT_KEYS = {
    "createdAt": "created_at",
    "lastModified": "last_modified",
    "downloads": "downloads",
    "likes": "likes",
    "trendingScore": "likes",
    "id": "id",
}


def _string(body: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise errors.InvalidRequestError(f"{key!r} must be a non-empty string")
    return value


def _env_inputs(body: dict[str, Any], name: str) -> list[EnvInput]:
    """`create_repo`'s `space_secrets` or `space_variables`: `[{key, value, description?}]`."""
    given = body.get(name)
    if given is None:
        return []
    if not isinstance(given, list) or not all(isinstance(item, dict) for item in given):
        raise errors.InvalidRequestError(f"{name!r} must be a list of objects")
    return [
        EnvInput(
            body_string(item, "key"),
            body_string(item, "value"),
            optional_body_string(item, "description") or "",
        )
        for item in given
    ]


def _visibility(body: dict[str, Any], type: RepoType) -> bool | None:
    """`private` from `visibility` (clients >= 1.8) or the older `private` boolean.

    A `protected` Space (public app, private files) is kept private here.
    """
    visibility = body.get("visibility")
    if visibility is not None:
        allowed = (
            ("public", "private", "protected") if type is RepoType.SPACE else ("public", "private")
        )
        if visibility not in allowed:
            raise errors.InvalidRequestError(
                f"Invalid visibility {visibility!r} for a {type.value}: one of {', '.join(allowed)}"
            )
        return bool(visibility != "public")
    private = body.get("private")
    if private is None:
        return None
    if not isinstance(private, bool):
        raise errors.InvalidRequestError("'private' must be a boolean")
    return private


async def create_repo(request: Request) -> Response:
    """Create a repo; 409 with the repo's `url` when it exists."""
    body = await read_json_object(request)
    type = body_repo_type(body)
    name = _string(body, "name")
    namespace = _string(body, "organization", required=False)
    sdk = _string(body, "sdk", required=False)
    assert name is not None
    secrets, variables = _env_inputs(body, "secrets"), _env_inputs(body, "variables")
    if (secrets or variables) and type is not RepoType.SPACE:
        raise errors.InvalidRequestError("Only a Space has secrets and variables")
    caller = await identity(request)
    space_env = services(request).space_env
    await call(space_env.check_initial, secrets, variables)
    template, space_settings = None, None
    if type is RepoType.SPACE:
        template, sdk = _template(body, sdk)
        space_settings = await call(
            services(request).space_runtime.check_initial,
            caller,
            _string(body, "hardware", required=False),
            _integer(body, "sleepTimeSeconds"),
            space_volumes(body.get("volumes") or []),
            sdk,
        )
    try:
        repo = await call(
            services(request).repos.create,
            caller,
            type,
            namespace,
            name,
            private=_visibility(body, type),
            sdk=sdk,
            files=None if template is None else template.files,
        )
    except errors.ConflictError as exc:
        owner = namespace or (caller.account.name if caller.account else "")
        raise errors.ConflictError(
            exc.message, url=repo_url(request, type, f"{owner}/{name}")
        ) from exc
    if secrets or variables:
        await call(space_env.give_initial, repo, secrets, variables)
    if space_settings is not None:
        await call(services(request).space_runtime.give_initial, repo, space_settings)
    url = repo_url(request, type, repo.repo_id)
    return JSONResponse({"url": url, "name": repo.repo_id, "id": f"{repo.id:024x}"})


def _template(body: dict[str, Any], sdk: str | None) -> tuple[SpaceTemplate | None, str | None]:
    """The built-in template `create_repo(space_template=...)` names, and the Space's SDK."""
    name = _string(body, "template", required=False)
    if name is None:
        return None, sdk
    template = find_template(name)
    if template is None:
        known = ", ".join(t.repo_id for t in TEMPLATES)
        raise errors.InvalidRequestError(f"Unknown Space template {name!r}: one of {known}")
    if sdk is not None and sdk != template.sdk.value:
        raise errors.InvalidRequestError(
            f"The template {template.repo_id} is a {template.sdk.value} Space, not {sdk}"
        )
    return template, template.sdk.value


def _integer(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise errors.InvalidRequestError(f"{name!r} must be an integer")
    return value


# What `duplicate_repo` may send that this hub does not have: refused rather than silently
# dropped. A Space's runtime options are taken (`_space_options`).
_DUPLICATE_UNSUPPORTED = ("storageTier", "resourceGroupId")
_SPACE_OPTIONS = ("hardware", "sleepTimeSeconds", "secrets", "variables", "volumes")


async def duplicate_repo(request: Request) -> Response:
    """Copy a repo to `repository` (`namespace/name`); 409 with its `url` when it exists.

    A Space's copy may be given its own secrets, variables, hardware, sleep time and volumes,
    checked before it is made (its variables are the source's, then these).
    """
    type = repo_type(request)
    body = await read_json_object(request)
    unsupported = [key for key in _DUPLICATE_UNSUPPORTED if body.get(key) is not None]
    if unsupported:
        raise errors.NotSupportedError(
            f"This hub has no storage tiers or resource groups: duplicate without "
            f"{unsupported[0]!r}"
        )
    given = [key for key in _SPACE_OPTIONS if body.get(key) is not None]
    if given and type is not RepoType.SPACE:
        raise errors.InvalidRequestError(f"Only a Space takes {given[0]!r}")
    target = _string(body, "repository", required=False)
    namespace, _, name = target.rpartition("/") if target else ("", "", None)
    caller = await identity(request)
    hub = services(request)
    secrets, variables = _env_inputs(body, "secrets"), _env_inputs(body, "variables")
    await call(hub.space_env.check_initial, secrets, variables)
    space_settings = None
    if type is RepoType.SPACE:
        space_settings = await call(
            hub.space_runtime.check_initial,
            caller,
            _string(body, "hardware", required=False),
            _integer(body, "sleepTimeSeconds"),
            space_volumes(body.get("volumes") or []),
            None,
        )
    try:
        repo = await call(
            hub.duplicates.duplicate,
            caller,
            type,
            repo_id(request),
            namespace or None,
            name,
            private=_visibility(body, type),
        )
    except errors.ConflictError as exc:
        owner = namespace or (caller.account.name if caller.account else "")
        existing = f"{owner}/{name or param(request, 'name')}"
        raise errors.ConflictError(exc.message, url=repo_url(request, type, existing)) from exc
    if secrets or variables:
        await call(hub.space_env.give_initial, repo, secrets, variables)
    if space_settings is not None:
        await call(hub.space_runtime.give_initial, repo, space_settings)
    return JSONResponse({"url": repo_url(request, type, repo.repo_id), "filesCopyPending": False})


async def delete_repo(request: Request) -> Response:
    """Delete a repo named in the JSON body."""
    body = await read_json_object(request)
    caller = await identity(request)
    target = _body_repo_id(caller, body)
    await call(services(request).repos.delete, caller, body_repo_type(body), target)
    return JSONResponse({})


def _body_repo_id(caller: Identity, body: dict[str, Any]) -> str:
    name = _string(body, "name")
    namespace = _string(body, "organization", required=False)
    if namespace is None:
        if caller.account is None:
            raise errors.AuthenticationError("You must be authenticated to delete a repo")
        namespace = caller.account.name
    return f"{namespace}/{name}"


async def move_repo(request: Request) -> Response:
    """Rename or transfer a repo."""
    body = await read_json_object(request)
    source, target = _string(body, "fromRepo"), _string(body, "toRepo")
    assert source is not None and target is not None
    caller = await identity(request)
    repo = await call(services(request).repos.move, caller, body_repo_type(body), source, target)
    return JSONResponse({"url": repo_url(request, repo.type, repo.repo_id)})


async def update_settings(request: Request) -> Response:
    """Change a repo's visibility, gating or discussions."""
    body = await read_json_object(request)
    gated = body.get("gated")
    if gated is not None and not isinstance(gated, str | bool):
        raise errors.InvalidRequestError("'gated' must be 'auto', 'manual' or false")
    disabled = body.get("discussionsDisabled")
    if disabled is not None and not isinstance(disabled, bool):
        raise errors.InvalidRequestError("'discussionsDisabled' must be a boolean")
    type = repo_type(request)
    settings = RepoSettingsChange(
        private=_visibility(body, type), gated=gated, discussions_disabled=disabled
    )
    caller = await identity(request)
    repo = await call(
        services(request).repos.update_settings, caller, type, repo_id(request), settings
    )
    return JSONResponse(
        {
            "private": repo.private,
            "gated": repo.gated or False,
            "discussionsDisabled": repo.discussions_disabled,
        }
    )


async def get_repo_info(request: Request) -> Response:
    """Repo info at the default branch or at `/revision/{rev}`."""
    type = repo_type(request)
    revision = param(request, "revision") if "revision" in request.path_params else DEFAULT_BRANCH
    expand = query_list(request, "expand")
    blobs = flag(request, "blobs")
    # A namespace-less id (`gpt2`) names no repo here, but must still be a RepoNotFound so that
    # `repo_exists("gpt2")` answers False instead of raising.
    target = repo_id(request) if "namespace" in request.path_params else param(request, "name")
    caller = await identity(request)
    info = await call(
        services(request).catalog.info, caller, type, target, revision, _details(expand)
    )
    payload = payloads.repo_info(info, blobs=blobs)
    if type is RepoType.SPACE and (not expand or "runtime" in expand):
        state = await call(services(request).space_runtime.shown_to, caller, info.repo)
        payload["runtime"] = payloads.space_runtime(state)
    return JSONResponse(payloads.select(payload, expand, type) if expand else payload)


def _details(expand: list[str], *, listing: bool = False) -> Details:
    """What repo info must hold: everything, or what `expand=` names.

    A full listing leaves the weights' summaries out unless asked for, as the Hub does.
    """
    return Details(
        files=not expand or "siblings" in expand,
        used_storage=not expand or "usedStorage" in expand,
        safetensors="safetensors" in expand or not (expand or listing),
        gguf="gguf" in expand or not (expand or listing),
    )


async def auth_check(request: Request) -> Response:
    """200 when the caller may read (or, with `/write`, write to) the repo."""
    action = Action.WRITE if request.url.path.endswith("/write") else Action.READ_FILES
    caller = await identity(request)
    await call(services(request).repos.locate, caller, repo_type(request), repo_id(request), action)
    return JSONResponse({})


async def list_repos(request: Request) -> Response:
    """One page of repos, with a `Link` header to the next."""
    type = repo_type(request)
    sort = request.query_params.get("sort") or "createdAt"
    if sort not in _SORT_KEYS:
        raise errors.InvalidRequestError(f"Cannot sort by {sort!r}: one of {', '.join(_SORT_KEYS)}")
    direction = request.query_params.get("direction", "-1")
    if direction not in ("-1", "1"):
        raise errors.InvalidRequestError("'direction' must be -1 or 1")
    limit = int_param(request, "limit", _PAGE_SIZE, maximum=_PAGE_SIZE)
    offset = decode_cursor(request)
    gated = request.query_params.get("gated")
    query = RepoQuery(
        type=type.value,
        search=query_list(request, "search"),
        author=request.query_params.get("author") or None,
        tags=query_list(request, "filter"),
        gated=None if gated is None else flag(request, "gated"),
        pipeline_tag=request.query_params.get("pipeline_tag") or None,
        sort=_SORT_KEYS[sort],
        descending=direction == "-1",
        offset=offset,
        limit=limit,
    )
    expand = query_list(request, "expand")
    full = flag(request, "full") or flag(request, "cardData") or flag(request, "config")
    caller = await identity(request)
    details = _details(expand, listing=True) if full or expand else None
    page = await call(services(request).catalog.list, caller, query, details)
    headers = next_link(request, offset + limit) if page.more else {}
    items = [_listing_item(item, expand) for item in page.items]
    if type is RepoType.SPACE and "runtime" in expand:
        runtime = services(request).space_runtime
        for item, payload in zip(page.items, items, strict=True):
            repo = item.repo if isinstance(item, RepoInfo) else item
            state = await call(runtime.shown_to, caller, repo)
            payload["runtime"] = payloads.space_runtime(state)
    return JSONResponse(items, headers=headers)


def _listing_item(item: ListedRepo, expand: list[str]) -> dict[str, Any]:
    if isinstance(item, RepoInfo):
        type = RepoType(item.repo.type)
        payload = payloads.repo_info(item, blobs=False)
    else:
        type = RepoType(item.type)
        payload = payloads.repo_summary(item)
    return payloads.select(payload, expand, type) if expand else payload


async def safetensors_metadata(request: Request) -> Response:
    """Every shard header of a sharded model on `main` (`get_sharded_safetensors_metadata`)."""
    caller = await identity(request)
    found = await call(
        services(request).weights.sharded_metadata,
        caller,
        repo_id(request),
        param(request, "filename"),
    )
    return JSONResponse({"index": dict(found.index), "headers": dict(found.headers)})


def _tags_by_type(type: RepoType) -> Callable[[Request], Awaitable[Response]]:
    async def tags_by_type(request: Request) -> Response:
        """The tags the caller's visible repos of a type use, grouped by type (`tags.py`)."""
        caller = await identity(request)
        grouped = await call(services(request).catalog.tags_by_type, caller, type)
        return JSONResponse(
            {
                kind: [{"id": t.id, "label": t.label, "type": t.type} for t in found]
                for kind, found in grouped.items()
            }
        )

    return tags_by_type


routes = [
    Route("/api/repos/create", create_repo, methods=["POST"]),
    Route("/api/repos/delete", delete_repo, methods=["DELETE"]),
    Route("/api/repos/move", move_repo, methods=["POST"]),
    Route(API_REPOS, list_repos, methods=["GET"]),
    *(
        Route(f"/api/{type.api_segment}-tags-by-type", _tags_by_type(type), methods=["GET"])
        for type in (RepoType.MODEL, RepoType.DATASET)
    ),
    Route(API_REPO, get_repo_info, methods=["GET"]),
    Route(API_REPOS + "/{name}", get_repo_info, methods=["GET"]),
    Route(API_REPO + "/revision/{revision:path}", get_repo_info, methods=["GET"]),
    Route(API_REPO + "/settings", update_settings, methods=["PUT"]),
    Route(API_REPO + "/duplicate", duplicate_repo, methods=["POST"]),
    Route(
        "/api/models/{namespace}/{name}/safetensors-metadata/{filename:path}",
        safetensors_metadata,
        methods=["GET"],
    ),
    Route(API_REPO + "/auth-check", auth_check, methods=["GET"]),
    Route(API_REPO + "/auth-check/write", auth_check, methods=["GET"]),
]
