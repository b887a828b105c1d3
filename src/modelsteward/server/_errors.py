"""One error shape for every API failure: ``{"error": {"code": "...", "message": "..."}}``.

Handlers turn the registry's errors, request validation and unknown routes into that shape, so that
a client never sees a traceback or FastAPI's own ``{"detail": ...}``.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope

from modelsteward.registry import RegistryError, RegistryInputError

_log = logging.getLogger("modelsteward.server")

# RegistryError carries no kind; these are the openings of its "not there" messages.
_NOT_FOUND = ("no model named", "no user", "no token", "no job")
_NOT_FOUND_INSIDE = (" has no version ", " has no alias ", " has no tag ")
_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    429: "throttled",
    503: "unavailable",
}


class ApiError(Exception):
    """A failure the API reports with ``status`` and a stable ``code``."""

    def __init__(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The JSON response of one error."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def too_large(_scope: Scope, message: str) -> JSONResponse:
    """The answer to a request body over the server's limit (``message`` names the limit)."""
    return error_response(413, "too_large", message)


def registry_error(error: RegistryError) -> ApiError:
    """The API error a registry refusal stands for: 422 bad input, 404 missing, 403 separation of
    duties, 503 database down, else 409 (the registry's state forbids it)."""
    message = str(error)
    if isinstance(error, RegistryInputError):
        return ApiError(422, "invalid", message)
    if message.startswith(_NOT_FOUND) or any(part in message for part in _NOT_FOUND_INSIDE):
        return ApiError(404, "not_found", message)
    if "separation of duties" in message:
        return ApiError(403, "separation_of_duties", message)
    if message.startswith("registry database"):
        return ApiError(503, "unavailable", "the registry database is unavailable")
    return ApiError(409, "conflict", message)


def install(app: FastAPI) -> None:
    """Make every error of ``app`` answer in the one shape."""

    async def api(_request: Request, error: Exception) -> JSONResponse:
        if not isinstance(error, ApiError):  # registered for ApiError only
            raise error
        return error_response(error.status, error.code, error.message, error.headers)

    async def registry(_request: Request, error: Exception) -> JSONResponse:
        if not isinstance(error, RegistryError):  # registered for RegistryError only
            raise error
        mapped = registry_error(error)
        return error_response(mapped.status, mapped.code, mapped.message)

    async def validation(_request: Request, error: Exception) -> JSONResponse:
        if not isinstance(error, RequestValidationError):  # registered for RequestValidationError only
            raise error
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item.get('loc', ()))}: {item.get('msg', 'invalid')}"
            for item in error.errors()[:5]
        )
        return error_response(422, "invalid", problems or "invalid request")

    async def http(_request: Request, error: Exception) -> JSONResponse:
        if not isinstance(error, StarletteHTTPException):  # registered for StarletteHTTPException only
            raise error
        code = _STATUS_CODES.get(error.status_code, "error")
        headers = dict(error.headers) if error.headers else None
        return error_response(error.status_code, code, str(error.detail), headers)

    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        _log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
        return error_response(500, "internal", "internal error: see the server's log")

    app.add_exception_handler(ApiError, api)
    app.add_exception_handler(RegistryError, registry)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(StarletteHTTPException, http)
    app.add_exception_handler(Exception, unexpected)
