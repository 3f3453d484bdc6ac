"""The API's documentation page, served from local files: Swagger UI at ``/docs`` (the schema: ``/openapi.json``).

FastAPI's own pages load Swagger UI and ReDoc from a CDN and start them with an inline script, which the
service's Content-Security-Policy forbids (and a clinic's network may block). ``/docs`` here loads the Swagger UI
bundle that the ``fastapi-offline`` package ships (pinned in ``requirements.lock``), mounted at ``/docs-assets``,
and starts it from a script file. The page gets a policy of its own that allows inline *styles* (Swagger UI sets
them at run time) but still no inline or outside script. There is no ``/redoc``: the bundled ReDoc fetched its
footer logo from the vendor's host (refused by the policy), and Swagger UI shows the same schema.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS_URL = "/docs-assets"
DOCS_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "connect-src 'self'; worker-src 'self' blob:; font-src 'self' data:; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
router = APIRouter(include_in_schema=False)


def assets_dir() -> Path:
    """The folder of the Swagger UI and ReDoc bundles (``fastapi_offline/static``)."""
    import fastapi_offline

    return Path(fastapi_offline.__file__).parent / "static"


def _page(title: str, head: str, body: str) -> HTMLResponse:
    html = (f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{title}</title>\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<link rel="icon" href="{ASSETS_URL}/favicon.png">\n{head}</head>\n<body>\n{body}</body>\n</html>\n')
    return HTMLResponse(html, headers={"Content-Security-Policy": DOCS_CSP, "Cache-Control": "no-cache"})


@router.get("/docs")
def swagger_ui() -> HTMLResponse:
    """Swagger UI on ``/openapi.json`` (try a call with your key: Authorize, ``X-API-Key``)."""
    return _page("PoseCoach API - Swagger UI", f'<link rel="stylesheet" href="{ASSETS_URL}/swagger-ui.css">\n',
                 f'<div id="swagger-ui"></div>\n<script src="{ASSETS_URL}/swagger-ui-bundle.js"></script>\n'
                 '<script src="/docs/swagger-init.js"></script>\n')


SWAGGER_INIT = """// Starts Swagger UI: a file, as the Content-Security-Policy allows no inline script.
window.ui = SwaggerUIBundle({
  url: '/openapi.json', dom_id: '#swagger-ui', layout: 'BaseLayout', deepLinking: true,
  showExtensions: true, showCommonExtensions: true, validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
"""


@router.get("/docs/swagger-init.js")
def swagger_init() -> Response:
    return Response(SWAGGER_INIT, media_type="text/javascript", headers={"Cache-Control": "no-cache"})


def install(app: FastAPI) -> None:
    """Add ``/docs`` and its assets (the app is made with ``docs_url=None, redoc_url=None``)."""
    app.include_router(router)
    app.mount(ASSETS_URL, StaticFiles(directory=assets_dir()), name="docs-assets")
