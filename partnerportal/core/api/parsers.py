"""The API's JSON parser: a body nested too deeply for Python's parser is a 400, not a 500."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser; a document nested so deeply that decoding it overflows Python's
    recursion limit (e.g. 10 000 opening brackets) is refused like any malformed JSON. The
    body's size is bounded before it is read (`core.middleware.RequestBodyLimitMiddleware`)."""

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - the document is nested too deeply.") from exc
