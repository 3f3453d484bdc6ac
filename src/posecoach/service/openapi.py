"""The OpenAPI schema at ``/openapi.json``, completed with the answers every route may give: 401 for each
operation that needs an API key, 400 for each one with a body that may not parse (e.g. bytes that are not
UTF-8 sent as JSON). Fuzzing (`tests/service/test_fuzz.py`) holds the API to this schema."""

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
                for operation in path.values():
                    answers = operation.setdefault("responses", {})
                    if operation.get("security"):
                        answers.setdefault("401", _answer("No valid API key (header X-API-Key)"))
                    if "requestBody" in operation:
                        answers.setdefault("400", _answer("The body could not be parsed"))
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
