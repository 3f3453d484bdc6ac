"""The OpenAPI schema at ``/openapi.json``, completed with the answers every route may give: 401 and 429 for
each operation that needs an API key (429: too many wrong keys from the address), 403 for each that changes
something (a read-only key), 400 for each one with a body that may not parse (e.g. bytes that are not
UTF-8 sent as JSON). Fuzzing (`tests/integration/service/test_fuzz.py`) holds the API to this schema."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

_PROBLEM = {"$ref": "#/components/schemas/Problem"}


def _answer(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _PROBLEM}}}


def install(app: FastAPI) -> None:
    """Make ``app.openapi`` build (once) the completed schema."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)
            for path in schema.get("paths", {}).values():
                for method, operation in path.items():
                    answers = operation.setdefault("responses", {})
                    if operation.get("security"):
                        answers.setdefault("401", _answer("No valid API key (header X-API-Key) or session"))
                        answers.setdefault("429", _answer("Too many wrong API keys from your address "
                                                          "(Retry-After says when to try again)"))
                        if method.upper() not in ("GET", "HEAD", "OPTIONS"):
                            answers.setdefault("403", _answer("The API key's scopes do not cover the request "
                                                              "(a read-only key)"))
                    if "requestBody" in operation:
                        answers.setdefault("400", _answer("The body could not be parsed"))
                    _degraded_and_invalid_text(answers)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _degraded_and_invalid_text(answers: dict[str, Any]) -> None:
    """Any route may answer 503 (the database is down: `degraded`) and 422 with a reason as text (invalid text in
    the URL or body: `text_guard`) besides FastAPI's list of field errors."""
    answers.setdefault("503", {**_answer("The database is unavailable (Retry-After says when to try again)")})
    answers["422"] = {"description": answers.get("422", {}).get("description", "Invalid request"),
                      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Invalid"}}}}
