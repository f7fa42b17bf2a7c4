"""The FastAPI application: JSON API under ``/api/v1``, server-rendered pages elsewhere."""

from __future__ import annotations

from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from tipwatch import __version__, reference
from tipwatch.errors import Conflict, InputError, NotFound, PermissionDenied, TipwatchError
from tipwatch.ingest.files import MAX_BYTES
from tipwatch.store import open_store
from tipwatch.web.deps import NotSignedIn, Site

STATUS = {NotSignedIn: 401, PermissionDenied: 403, NotFound: 404, Conflict: 409, InputError: 400}


def _status(exc: TipwatchError) -> int:
    for cls, code in STATUS.items():
        if isinstance(exc, cls):
            return code
    return 400


def create_app(db: str, *, region: str = "ASEAN", years: tuple[int, int] = (2003, 2021),
               secure_cookies: bool = False) -> FastAPI:
    """The web application over the store at ``db``.

    Args:
        db: A DuckDB file (embedded mode: run one process) or a ``postgresql://`` URL.
        region: The region the dashboard and the published report cover.
        years: Their years.
        secure_cookies: Mark the session cookie ``Secure`` (behind HTTPS).

    Raises:
        InputError: Unknown region.
        StoreError: The store cannot be opened.
    """
    try:
        region = reference.region_id(region)
    except KeyError as exc:
        raise InputError(str(exc.args[0])) from None
    store = open_store(db)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        try:
            yield
        finally:
            with app.state.site.lock:
                store.close()

    app = FastAPI(
        title="tipwatch",
        version=__version__,
        description="Submissions, validation, approval and publication of criminal justice figures on trafficking "
                    "in persons; the published indicators. Authenticate machine calls with "
                    "`Authorization: Bearer <token>` (`tipwatch users token NAME`).",
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # served below, from tipwatch's own copy of Swagger UI (no CDN)
        redoc_url=None,
    )
    app.state.site = Site(store=store, region=region, years=years, secure_cookies=secure_cookies)

    def wants_html(request: Request) -> bool:
        return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "text/html")

    @app.exception_handler(TipwatchError)
    async def tipwatch_error(request: Request, exc: TipwatchError):
        code = _status(exc)
        if wants_html(request):
            if code == 401:
                return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
            from tipwatch.web.pages import render

            return render(request, "error.html", {"message": str(exc), "status": code}, status_code=code)
        headers = {"WWW-Authenticate": "Bearer"} if code == 401 else None
        return JSONResponse({"detail": str(exc)}, status_code=code, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if wants_html(request):
            from tipwatch.web.pages import render

            message = "There is no such page." if exc.status_code == 404 else str(exc.detail)
            return render(request, "error.html", {"message": message, "status": exc.status_code},
                          status_code=exc.status_code)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        problems = ["{}: {}".format(".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()]
        if wants_html(request):
            from tipwatch.web.pages import render

            return render(request, "error.html", {"message": "; ".join(problems), "status": 422}, status_code=422)
        # The shape the OpenAPI document declares for 422 (FastAPI's HTTPValidationError), without the
        # rejected input itself (it may be bytes that are no JSON).
        detail = [{"loc": [p if isinstance(p, int) else str(p) for p in e["loc"]], "msg": str(e["msg"]),
                   "type": str(e["type"])} for e in exc.errors()]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.middleware("http")
    async def guard(request: Request, call_next):
        # A body larger than any file tipwatch accepts is refused before it is received.
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_BYTES + (1 << 20):
            message = (f"The upload is {int(length) / 2**20:,.0f} MB, more than the {MAX_BYTES // 2**20} MB tipwatch "
                       "accepts in one file: split it by year.")
            return JSONResponse({"detail": message}, status_code=413)
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    js = resources.files("tipwatch.report").joinpath("static", "js")
    css = resources.files("tipwatch.web").joinpath("static")
    app.mount("/static/js", StaticFiles(directory=str(js)), name="js")
    app.mount("/static/web", StaticFiles(directory=str(css)), name="web-static")

    @app.get("/api/v1/docs", include_in_schema=False)
    async def api_docs():
        # The interactive API documentation, with Swagger UI served by tipwatch (static/swagger/,
        # see its SOURCE.md), so that it works on a network without internet access.
        return get_swagger_ui_html(openapi_url=app.openapi_url, title="tipwatch API",
                                   swagger_js_url="/static/web/swagger/swagger-ui-bundle.js",
                                   swagger_css_url="/static/web/swagger/swagger-ui.css",
                                   swagger_favicon_url="/static/web/swagger/favicon-32x32.png",
                                   oauth2_redirect_url=None)

    from tipwatch.web import api, pages

    app.include_router(api.router)
    app.include_router(pages.router)
    return app




def from_environment() -> FastAPI:
    """The application ``tipwatch serve --workers N`` starts in each worker process."""
    import json
    import os

    cfg = json.loads(os.environ["TIPWATCH_SERVE"])
    return create_app(cfg["db"], region=cfg["region"], years=tuple(cfg["years"]),
                      secure_cookies=cfg["secure_cookies"])
