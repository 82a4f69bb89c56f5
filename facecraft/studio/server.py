"""The studio's web app (Starlette): pages, the JSON API, project files and the job event stream.

:func:`create_app` is what ``facecraft studio`` serves and what the tests drive with an ASGI client.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from facecraft.errors import FacecraftError
from facecraft.fileio import write_atomic
from facecraft.studio import catalog, specs, uploads
from facecraft.studio.db import JobStore
from facecraft.studio.progress import loss_curve, readable_log
from facecraft.studio.project import PathEscape, Project, safe_name, stamp
from facecraft.studio.security import LOCAL_HOSTS, Guard
from facecraft.studio.worker import Worker, read_log

PAGES = ("media", "facesets", "train", "swap", "animate", "verify")
STATIC = resources.files("facecraft.studio") / "static"


@dataclass
class Studio:
    project: Project
    store: JobStore
    worker: Worker
    token: str
    stopping: Callable[[], bool] = lambda: False
    """True once the server is shutting down (set by ``facecraft studio``): event streams end then."""


def _studio(request: Request) -> Studio:
    studio: Studio = request.app.state.studio
    return studio


def _error(exc: FacecraftError) -> JSONResponse:
    status = getattr(exc, "status", 404 if isinstance(exc, PathEscape) else 400)
    return JSONResponse({"error": str(exc)}, status_code=status)


async def _json(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        raise FacecraftError("the request body is not JSON") from None
    if not isinstance(data, dict):
        raise FacecraftError("the request body must be a JSON object")
    return data


# ---- pages and files ---------------------------------------------------------------------------
def page(request: Request) -> Response:
    name = request.path_params.get("page", "media")
    if name not in PAGES:
        raise HTTPException(404)
    html = (STATIC / "page.html").read_text()
    html = html.replace("{{page}}", name).replace("{{token}}", _studio(request).token)
    return HTMLResponse(html, headers={"cache-control": "no-store"})


def static(request: Request) -> Response:
    name = request.path_params["name"]
    item = STATIC / name
    if "/" in name or name.startswith(".") or not item.is_file() or name == "page.html":
        raise HTTPException(404)
    types = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
    return Response(item.read_bytes(), media_type=types.get(Path(name).suffix, "application/octet-stream"))


def project_file(request: Request) -> Response:
    project = _studio(request).project
    try:
        path = project.resolve(request.path_params["path"])
    except PathEscape:
        raise HTTPException(404) from None
    if not path.is_file() or path.name.startswith(project.db_path.name):
        raise HTTPException(404)
    return FileResponse(path, headers={"cache-control": "no-cache"})


# ---- API -----------------------------------------------------------------------------------------
def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def state(request: Request) -> Response:
    """Everything the pages list: media, facesets, models, outputs, consent records and form options."""
    project = _studio(request).project
    forms = "options" in request.query_params  # the swap/animate forms' choices: only when asked
    media = []
    for p in project.listing("media"):
        if p.is_file():
            try:
                media.append(catalog.media_info(project, p))
            except (FacecraftError, OSError) as exc:
                media.append({"name": p.name, "path": project.relative(p), "error": str(exc)})
    return JSONResponse(
        {
            "project": str(project.root),
            "media": media,
            "facesets": catalog.facesets(project),
            "models": catalog.models(project),
            "outputs": catalog.files(project, "outputs"),
            "consent": catalog.files(project, "consent"),
            "verify": catalog.files(project, "verify"),
            "options": {c: specs.cli_options(c) for c in ("swap", "animate")} if forms else {},
            "performances": specs.performances() if forms else [],
            "tts": specs.tts_available() if forms else False,
            "architectures": list(specs.MODELS),
        }
    )


async def upload(request: Request) -> Response:
    studio = _studio(request)
    folder = request.path_params["folder"]
    name = request.query_params.get("name", "")
    try:
        path = await uploads.receive(
            studio.project, folder, name, request.stream(), request.app.state.limits.get(folder)
        )
    except FacecraftError as exc:
        return _error(exc)
    info: dict[str, Any] = {"name": path.name, "path": studio.project.relative(path)}
    if folder == "media":
        info = await run_in_threadpool(catalog.media_info, studio.project, path)
    return JSONResponse(info, status_code=201)


async def add_media(request: Request) -> Response:
    """Copy a file that is on this machine into the project's media (type checked like an upload)."""
    studio = _studio(request)
    try:
        source = Path(str((await _json(request)).get("path", ""))).expanduser()
        if not source.is_file():
            raise FacecraftError(f"{source} is not a file on this machine")
        path = await uploads.receive(studio.project, "media", source.name, uploads.file_chunks(source))
    except (FacecraftError, OSError) as exc:
        return _error(exc if isinstance(exc, FacecraftError) else FacecraftError(str(exc)))
    return JSONResponse(await run_in_threadpool(catalog.media_info, studio.project, path), status_code=201)


async def write_consent(request: Request) -> Response:
    """Save a typed consent statement as a text record in consent/."""
    project = _studio(request).project
    try:
        data = await _json(request)
        text = str(data.get("text", "")).strip()
        if len(text) < 20:
            raise FacecraftError("write who consented, to what, and when (at least 20 characters)")
        path = project.new_path("consent", f"{safe_name(str(data.get('name') or 'consent'))}-{stamp()}.txt")
        write_atomic(
            path,
            (
                text
                + f"\n\n(recorded in facecraft studio, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})\n"
            ).encode(),
        )
    except FacecraftError as exc:
        return _error(exc)
    return JSONResponse({"name": path.name, "path": project.relative(path)}, status_code=201)


def faceset(request: Request) -> Response:
    try:
        return JSONResponse(catalog.faceset_detail(_studio(request).project, request.path_params["name"]))
    except FacecraftError as exc:
        return _error(exc)


async def faceset_delete(request: Request) -> Response:
    project = _studio(request).project
    try:
        ids = (await _json(request)).get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            raise FacecraftError("ids must be a list of face ids")
        removed = await run_in_threadpool(catalog.delete_faces, project, request.path_params["name"], ids)
    except FacecraftError as exc:
        return _error(exc)
    return JSONResponse({"removed": removed})


def model(request: Request) -> Response:
    studio = _studio(request)
    name = request.path_params["name"]
    try:
        info = next((m for m in catalog.models(studio.project) if m["name"] == name), None)
        metrics = catalog.model_metrics(studio.project, name)
    except FacecraftError as exc:
        return _error(exc)
    loss: list[tuple[int, float]] = []
    for job in reversed(studio.store.all()):
        if job.kind == "train" and job.params.get("name") == name:
            loss += loss_curve(read_log(studio.project, job.id, tail=4 << 20))
    return JSONResponse({"model": info, "metrics": metrics, "loss": sorted(dict(loss).items())})


async def create_job(request: Request) -> Response:
    studio = _studio(request)
    try:
        data = await _json(request)
        plan = await run_in_threadpool(
            specs.plan, studio.project, str(data.get("kind")), data.get("params") or {}
        )
    except FacecraftError as exc:
        return _error(exc)
    job_id = studio.store.add(plan.kind, plan.params, plan.title, plan.argv)
    studio.worker.wake()
    job = studio.store.get(job_id)
    return JSONResponse(job.to_json() if job else {}, status_code=201)


def jobs(request: Request) -> Response:
    return JSONResponse([j.to_json() for j in _studio(request).store.all()])


def job(request: Request) -> Response:
    studio = _studio(request)
    found = studio.store.get(int(request.path_params["id"]))
    if found is None:
        return JSONResponse({"error": "no such job"}, status_code=404)
    return JSONResponse({**found.to_json(), "log": readable_log(read_log(studio.project, found.id), 200)})


def cancel(request: Request) -> Response:
    studio = _studio(request)
    found = studio.store.request_cancel(int(request.path_params["id"]))
    if found is None:
        return JSONResponse({"error": "no such job"}, status_code=404)
    return JSONResponse(found.to_json())


def retry(request: Request) -> Response:
    """Queue a failed or cancelled job again: the verb resumes from what it saved."""
    studio = _studio(request)
    found = studio.store.get(int(request.path_params["id"]))
    if found is None or found.state not in ("failed", "cancelled"):
        return JSONResponse({"error": "only failed or cancelled jobs can be resumed"}, status_code=409)
    studio.store.set(found.id, state="queued", cancel=0, finished=None, error="", detail="queued to resume")
    studio.worker.wake()
    return JSONResponse((studio.store.get(found.id) or found).to_json())


async def events(request: Request) -> Response:
    """Server-sent events: the job list (and the running jobs' log tails) whenever anything changes."""
    studio = _studio(request)
    limit = int(request.query_params.get("max_events", "0") or 0)

    async def stream() -> AsyncIterator[str]:
        last, sent, quiet = "", 0, 0.0
        while not studio.stopping() and not await request.is_disconnected():
            snapshot = await run_in_threadpool(_snapshot, studio)
            key = json.dumps(snapshot, sort_keys=True)
            if key != last:
                last, quiet = key, 0.0
                sent += 1
                yield f"event: jobs\ndata: {key}\n\n"
                if limit and sent >= limit:
                    return
            elif quiet > 15:
                quiet = 0.0
                yield ": keep-alive\n\n"
            await asyncio.sleep(0.5)
            quiet += 0.5

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"cache-control": "no-store"})


def _snapshot(studio: Studio) -> dict[str, Any]:
    recent = studio.store.all(limit=50)
    logs = {
        str(j.id): readable_log(read_log(studio.project, j.id, tail=16384), 12)
        for j in recent
        if j.state == "running"
    }
    return {"jobs": [j.to_json() for j in recent], "logs": logs}


ROUTES = [
    Route("/", lambda r: RedirectResponse("/media", status_code=303)),
    Route("/api/health", health),
    Route("/api/state", state),
    Route("/api/upload/{folder}", upload, methods=["PUT"]),
    Route("/api/media/add", add_media, methods=["POST"]),
    Route("/api/consent", write_consent, methods=["POST"]),
    Route("/api/facesets/{name}", faceset),
    Route("/api/facesets/{name}/delete", faceset_delete, methods=["POST"]),
    Route("/api/models/{name}", model),
    Route("/api/jobs", jobs),
    Route("/api/jobs", create_job, methods=["POST"]),
    Route("/api/jobs/{id:int}", job),
    Route("/api/jobs/{id:int}/cancel", cancel, methods=["POST"]),
    Route("/api/jobs/{id:int}/retry", retry, methods=["POST"]),
    Route("/api/events", events),
    Route("/static/{name}", static),
    Route("/files/{path:path}", project_file),
    Route("/{page}", page),
]


def _warm_up() -> None:
    time.sleep(3)  # after the first page has loaded
    for command in ("swap", "animate"):
        specs.cli_options(command)


def create_app(
    project_dir: str | Path,
    token: str | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    extra_hosts: frozenset[str] = frozenset(),
    run_jobs: bool = True,
    limits: dict[str, int] | None = None,
) -> Starlette:
    """The studio app for the project folder ``project_dir`` (created when missing).

    ``token``: the access token (default: a new random one, in ``app.state.studio.token``). ``host``: the
    address it is served on; 0.0.0.0 accepts any Host header, otherwise only local names and ``extra_hosts``.
    ``run_jobs``: start the job worker with the app. ``limits``: upload size caps per folder, bytes."""
    project = Project.open(project_dir)
    store = JobStore(project.db_path)
    studio = Studio(project, store, Worker(project, store), token or secrets.token_urlsafe(24))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # the swap/animate form options come from the CLI parsers, whose imports take a second or two:
        # read them in the background, not when the Swap page asks
        threading.Thread(target=_warm_up, name="studio-warm-up", daemon=True).start()
        if run_jobs:
            await run_in_threadpool(studio.worker.start)
        try:
            yield
        finally:
            if run_jobs:
                await run_in_threadpool(studio.worker.stop)

    app = Starlette(routes=ROUTES, lifespan=lifespan)
    app.state.studio = studio
    app.state.limits = limits or {}
    hosts = None if host in ("0.0.0.0", "::") else LOCAL_HOSTS | {host} | extra_hosts
    app.add_middleware(Guard, token=studio.token, cookie=f"facecraft_studio_{port}", allowed_hosts=hosts)
    return app
