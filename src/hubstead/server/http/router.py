"""Routing that tries only the routes a path could match.

Starlette's router tries every route in order until one matches. The hub has about 400 (the
API for four repo types, git, LFS, Xet, then the web pages), so a `resolve` or a web page was
tried against a hundred or more regular expressions before its own: a quarter of the event
loop's time per metadata request. `IndexedRouter` keeps Starlette's order and semantics and
skips, before any regex runs, the routes whose fixed segments cannot be there: a route
`/{namespace}/{name}/resolve/{revision}/{path:path}` is only tried on paths whose fourth
segment is `resolve`, and a route without a multi-segment parameter only on paths of its own
number of segments.

The first route that matches fully is the one Starlette would have chosen, since a route
skipped could not have matched. Everything else (a partial match for 405 Method Not Allowed,
the trailing-slash redirect, 404) is rare and left to Starlette's own scan of every route.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from starlette._utils import get_route_path
from starlette.convertors import (
    FloatConvertor,
    IntegerConvertor,
    StringConvertor,
    UUIDConvertor,
)
from starlette.routing import BaseRoute, Match, Mount, Route, Router
from starlette.types import Lifespan, Receive, Scope, Send

from hubstead.server.http.paths import RepoTypeConvertor

# Parameters of these kinds match within one segment (no `/`); the subclasses of
# `StringConvertor` the hub registers narrow `[^/]+` further and stay within it.
_ONE_SEGMENT = (StringConvertor, IntegerConvertor, FloatConvertor, UUIDConvertor, RepoTypeConvertor)
# A parameter in a route's path, as Starlette writes them: `{name}` or `{name:convertor}`.
_PARAMETER = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)(?::[a-zA-Z_][a-zA-Z0-9_]*)?\}")


class RouteIndex:
    """Which routes a path could match, by its fixed segments and its number of segments.

    Routes are bits of an int, in their order; a path's candidates are the routes whose every
    fixed segment is the path's segment at that position.
    """

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self._routes = list(routes)
        everything = (1 << len(self._routes)) - 1
        # Per position: the routes with no fixed segment there, and those with one, by segment.
        self._free: list[int] = []
        self._fixed: list[dict[str, int]] = []
        # Routes that match paths of exactly n segments, and those of any length.
        self._by_length: dict[int, int] = {}
        self._any_length = 0
        for bit, route in enumerate(self._routes):
            shape = _shape(route)
            if shape is None:
                self._any_length |= 1 << bit
                continue
            fixed, length = shape
            if length is None:
                self._any_length |= 1 << bit
            else:
                self._by_length[length] = self._by_length.get(length, 0) | 1 << bit
            for position, segment in fixed.items():
                while len(self._free) <= position:
                    self._free.append(everything)
                    self._fixed.append({})
                self._free[position] &= ~(1 << bit)
                self._fixed[position][segment] = self._fixed[position].get(segment, 0) | 1 << bit

    def candidates(self, path: str) -> Iterator[BaseRoute]:
        """The routes that could match `path`, in their order."""
        segments = path.split("/")
        mask = self._any_length | self._by_length.get(len(segments), 0)
        for position, (free, fixed) in enumerate(zip(self._free, self._fixed, strict=True)):
            if position < len(segments):
                mask &= free | fixed.get(segments[position], 0)
            else:
                mask &= free
        while mask:
            lowest = mask & -mask
            yield self._routes[lowest.bit_length() - 1]
            mask ^= lowest


class IndexedRouter(Router):
    """A Starlette router that tries only the candidates of `RouteIndex` for a full match."""

    def __init__(
        self, routes: Sequence[BaseRoute], *, lifespan: Lifespan[Any] | None = None
    ) -> None:
        super().__init__(list(routes), lifespan=lifespan)
        self.index = RouteIndex(self.routes)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Dispatch to the first route that fully matches; Starlette's scan for the rest."""
        if scope["type"] == "http":
            for route in self.index.candidates(get_route_path(scope)):
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.setdefault("router", self)
                    scope["route"] = route
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
        await super().app(scope, receive, send)


def _shape(route: BaseRoute) -> tuple[dict[int, str], int | None] | None:
    """A route's fixed segments by position and its number of segments (None: any).

    None when nothing is known of it (a kind of route this module does not read).
    """
    if isinstance(route, Route):
        path, convertors, prefix_only = route.path, route.param_convertors, False
    elif isinstance(route, Mount):
        path, convertors, prefix_only = route.path, route.param_convertors, True
    else:
        return None
    fixed: dict[int, str] = {}
    segments = path.split("/")
    for position, segment in enumerate(segments):
        if "{" not in segment:
            fixed[position] = segment
        elif not all(
            isinstance(convertors[name], _ONE_SEGMENT) for name in _PARAMETER.findall(segment)
        ):
            # A parameter spanning segments: the positions after it move with its value.
            return fixed, None
    return fixed, None if prefix_only else len(segments)
