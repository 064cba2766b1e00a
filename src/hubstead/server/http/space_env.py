"""Space secret and variable endpoints.

Serves: `GET|POST|DELETE /api/spaces/{repo}/secrets` and `GET|POST|DELETE
/api/spaces/{repo}/variables`. Both lists are objects keyed by name, as `huggingface_hub`
parses them: `{key: {description, updatedAt}}` for secrets (never a value) and
`{key: {value, description, updatedAt}}` for variables. POST takes `{key, value,
description?}` and DELETE `{key}`; the variable endpoints answer with the variables after the
change, the secret ones with `{}`.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hubstead.server.domain.space_env import EnvKind, SpaceVariable
from hubstead.server.http import payloads
from hubstead.server.http.context import (
    body_string,
    call,
    identity,
    optional_body_string,
    read_json_object,
    repo_id,
    services,
)

_SPACE = "/api/spaces/{namespace}/{name}"


async def list_secrets(request: Request) -> Response:
    """The Space's secrets, without values."""
    caller = await identity(request)
    secrets = await call(services(request).space_env.secrets, caller, repo_id(request))
    return JSONResponse(
        {
            s.key: {"description": s.description, "updatedAt": payloads.date(s.updated_at)}
            for s in secrets
        }
    )


async def add_secret(request: Request) -> Response:
    """Add or replace a secret."""
    await _put(request, EnvKind.SECRET)
    return JSONResponse({})


async def delete_secret(request: Request) -> Response:
    """Remove a secret."""
    await _delete(request, EnvKind.SECRET)
    return JSONResponse({})


async def list_variables(request: Request) -> Response:
    """The Space's variables."""
    return JSONResponse(await _variables(request))


async def add_variable(request: Request) -> Response:
    """Add or replace a variable; the variables after the change."""
    await _put(request, EnvKind.VARIABLE)
    return JSONResponse(await _variables(request))


async def delete_variable(request: Request) -> Response:
    """Remove a variable; the variables after the change."""
    await _delete(request, EnvKind.VARIABLE)
    return JSONResponse(await _variables(request))


async def _put(request: Request, kind: EnvKind) -> None:
    caller = await identity(request)
    body = await read_json_object(request)
    await call(
        services(request).space_env.put,
        caller,
        repo_id(request),
        kind,
        body_string(body, "key"),
        body_string(body, "value"),
        optional_body_string(body, "description"),
    )


async def _delete(request: Request, kind: EnvKind) -> None:
    caller = await identity(request)
    body = await read_json_object(request)
    key = body_string(body, "key")
    await call(services(request).space_env.delete, caller, repo_id(request), kind, key)


async def _variables(request: Request) -> dict[str, Any]:
    caller = await identity(request)
    variables = await call(services(request).space_env.variables, caller, repo_id(request))
    return {v.key: _variable(v) for v in variables}


def _variable(variable: SpaceVariable) -> dict[str, str]:
    return {
        "value": variable.value,
        "description": variable.description,
        "updatedAt": payloads.date(variable.updated_at),
    }


routes = [
    Route(_SPACE + "/secrets", list_secrets, methods=["GET"]),
    Route(_SPACE + "/secrets", add_secret, methods=["POST"]),
    Route(_SPACE + "/secrets", delete_secret, methods=["DELETE"]),
    Route(_SPACE + "/variables", list_variables, methods=["GET"]),
    Route(_SPACE + "/variables", add_variable, methods=["POST"]),
    Route(_SPACE + "/variables", delete_variable, methods=["DELETE"]),
]
