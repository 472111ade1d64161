"""The one place that turns errors into RFC 9457 problem+json answers.

Every answer carries a stable `code`; validation answers list each field in `errors`.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from omnitill.domain.errors import DomainError

PROBLEM = "application/problem+json"
log = logging.getLogger("omnitill.api")


def problem(
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://omnitill.dev/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def domain_problem(exc: DomainError) -> JSONResponse:
    headers = None
    if "retry_after" in exc.details:
        headers = {"Retry-After": str(exc.details["retry_after"])}
    if exc.status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return problem(
        status=exc.status,
        code=exc.code,
        title=exc.title,
        detail=exc.message,
        errors=[e.as_dict() for e in exc.errors] or None,
        extra={"details": exc.details} if exc.details else None,
        headers=headers,
    )


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


async def _on_domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return domain_problem(exc)


async def _on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "field": _field_path(tuple(e["loc"])),
            "code": f"validation.{e['type']}",
            "message": e["msg"],
        }
        for e in exc.errors()
    ]
    return problem(
        status=422,
        code="request.validation_failed",
        title="Validation failed",
        detail="; ".join(f"{e['field']}: {e['message']}" for e in errors),
        errors=errors,
    )


async def _on_http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    codes = {404: "http.not_found", 405: "http.method_not_allowed", 401: "auth.required"}
    return problem(
        status=exc.status_code,
        code=codes.get(exc.status_code, f"http.{exc.status_code}"),
        title=str(exc.detail),
        detail=str(exc.detail),
        headers=getattr(exc, "headers", None),
    )


async def _on_unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return problem(
        status=500,
        code="internal.error",
        title="Internal error",
        detail="an unexpected error occurred; it has been logged",
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
