"""Serve the web app: ``/`` -> the app shell, ``/static/...`` -> its scripts, styles and vendored libraries."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
router = APIRouter(include_in_schema=False)


@router.get("/")
def index() -> FileResponse:
    """The single page; its script routes ``#/analyse``, ``#/live``... to the page modules."""
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


@router.get("/app")
def app_alias() -> RedirectResponse:
    return RedirectResponse("/")


def static_files() -> StaticFiles:
    """Mounted at ``/static`` by the app factory (a mount is not a route, so it is not in the router)."""
    return StaticFiles(directory=STATIC)
