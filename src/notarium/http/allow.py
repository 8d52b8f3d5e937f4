"""Which methods a path answers, for the ``Allow`` header of a 405.

Starlette answers a wrong method with the methods of the first route whose path
matched, but one path is often served by several routes (``GET`` and ``POST`` of a
collection, ``GET``/``PATCH``/``DELETE`` of an item): RFC 9110 wants all of them."""

from __future__ import annotations

import re
from collections.abc import Iterable

from starlette.routing import BaseRoute, Route

_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class AllowTable:
    def __init__(self, routes: Iterable[BaseRoute]) -> None:
        self._routes: list[tuple[re.Pattern[str], frozenset[str]]] = [
            (route.path_regex, frozenset(route.methods))
            for route in routes
            if isinstance(route, Route) and route.methods
        ]

    def methods_for(self, path: str) -> list[str]:
        found: set[str] = set()
        for pattern, methods in self._routes:
            if pattern.match(path):
                found |= methods
        return sorted(found, key=lambda m: (_ORDER.index(m) if m in _ORDER else len(_ORDER), m))
