"""A check every route runs on its path and query parameters before its own code."""

from __future__ import annotations

from fastapi.requests import HTTPConnection

from notarium.core.errors import ValidationError
from notarium.core.text import unstorable_character


class UnstorableParameter(ValidationError):
    code = "INVALID_REQUEST"


async def refuse_unstorable_parameters(connection: HTTPConnection) -> None:
    """No path or query value may hold NUL: every lookup would hand it to the database,
    and PostgreSQL refuses it outright (SQLite would quietly find nothing), so it is a
    400 in the route family's envelope rather than a failure deep in a query. (Decoded
    URLs cannot hold a surrogate: invalid UTF-8 percent-escapes decode to U+FFFD.) Typed
    as a connection, not a request, since it guards the WebSocket routes too; async, so
    it runs on the event loop rather than costing every request a thread hop."""
    for where, values in (
        ("path", connection.path_params.items()),
        ("query", connection.query_params.multi_items()),
    ):
        for name, value in values:
            if isinstance(value, str) and unstorable_character(name + value) is not None:
                raise UnstorableParameter(
                    f"The {where} parameter `{name.replace(chr(0), '')[:64]}` holds a NUL "
                    "character, which no field accepts."
                )
