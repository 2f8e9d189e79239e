"""The read API's NinjaAPI: JSON rendering as django-ninja does it, plus the HTTP caching every endpoint shares.

- **ETag**: every 200 answer to a GET carries a strong ETag, the SHA-256 of its body; a request whose
  ``If-None-Match`` names it gets ``304 Not Modified`` with no body (RFC 9110 §13.1.2). The body is still built
  (the ETag is of what would be sent): what a conditional GET saves is the transfer and the client's work,
  which is what a portal polling every minute costs most.
- **Cache-Control / Vary**: an anonymous answer is public data (``public, max-age=30``: a proxy may share it);
  a token's answer is ``private, no-cache``; both vary on ``Authorization``.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.http import parse_etags
from ninja import NinjaAPI
from ninja.errors import Throttled

from api.auth import token_of

PUBLIC_MAX_AGE = 30


def etag_for(content: bytes) -> str:
    return '"' + hashlib.sha256(content).hexdigest()[:40] + '"'


def etag_matches(header: str, etag: str) -> bool:
    """If-None-Match uses the weak comparison: ``W/"x"`` matches ``"x"``; ``*`` matches any current body."""
    if not header:
        return False
    tags = parse_etags(header)
    if "*" in tags:
        return True
    return etag in {tag.removeprefix("W/") for tag in tags}


class ReadApi(NinjaAPI):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_exception_handler(Throttled, self._throttled)
        self._schemas: dict[tuple, Any] = {}

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict | None = None) -> Any:
        """The schema is fixed once the process has loaded the code (~30 ms to build): built once per prefix,
        so ``/api/v1/openapi.json`` costs a client nothing more than any other GET."""
        key = (path_prefix, tuple(sorted((path_params or {}).items())))
        if key not in self._schemas:
            self._schemas[key] = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return self._schemas[key]

    def _throttled(self, request: HttpRequest, exc: Throttled) -> HttpResponse:
        """429 with ``Retry-After`` wherever the limit was hit (ninja adds the header only for its throttles)."""
        response = self.create_response(request, {"detail": "Quá nhiều yêu cầu, vui lòng thử lại sau."}, status=429)
        if exc.wait is not None:
            response["Retry-After"] = str(max(1, math.ceil(exc.wait)))
        return response

    def create_response(self, request: HttpRequest, data: Any, *, status: int | None = None,
                        temporal_response: HttpResponse | None = None) -> HttpResponse:
        response = super().create_response(request, data, status=status, temporal_response=temporal_response)
        response["Vary"] = "Authorization"
        if request.method not in ("GET", "HEAD") or response.status_code != 200:
            response["Cache-Control"] = "no-store"
            return response
        private = token_of(request) is not None
        response["Cache-Control"] = "private, no-cache" if private else f"public, max-age={PUBLIC_MAX_AGE}"
        etag = etag_for(response.content)
        response["ETag"] = etag
        if etag_matches(request.headers.get("If-None-Match", ""), etag):
            not_modified = HttpResponseNotModified()
            for header in ("ETag", "Cache-Control", "Vary"):
                not_modified[header] = response[header]
            return not_modified
        return response
