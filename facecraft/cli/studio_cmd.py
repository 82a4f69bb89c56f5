"""``facecraft studio``."""

from __future__ import annotations

import argparse
import socket
import sys

from facecraft.errors import FacecraftError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "studio",
        help="the whole pipeline in a local web app (media, facesets, training, swap, animate, verify)",
        description="Serve the studio for a project folder (media, facesets, models, outputs and the job "
        "queue live there; opening the same folder again shows everything as it was) and open the browser.",
    )
    p.add_argument(
        "project",
        nargs="?",
        default="facecraft-studio",
        metavar="PROJECT_DIR",
        help="project folder, created when missing (default ./facecraft-studio)",
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)"
    )
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.set_defaults(func=run)


def _check_port(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise FacecraftError(
                f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port"
            ) from None


def run(args: argparse.Namespace) -> int:
    import threading
    import webbrowser

    import uvicorn

    from facecraft.studio import create_app

    if not 0 < args.port < 65536:
        raise FacecraftError("--port must be between 1 and 65535")
    _check_port(args.host, args.port)
    if args.host in ("0.0.0.0", "::"):
        print(
            f"warning: --host {args.host} makes the studio reachable from other machines on the network; "
            "anyone with the printed link can use it",
            file=sys.stderr,
        )
    app = create_app(args.project, host=args.host, port=args.port)
    studio = app.state.studio
    studio.worker.lock()  # one studio per project: say so now, not from inside the server
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    url = f"http://{'[' + shown + ']' if ':' in shown else shown}:{args.port}/?token={studio.token}"
    # an open page keeps its event stream open: give connections 3 s to close on Ctrl-C, then stop anyway
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(config)
    studio.stopping = lambda: server.should_exit  # open pages' event streams end when Ctrl-C is pressed

    def announce() -> None:
        while not server.started and not server.should_exit:
            threading.Event().wait(0.05)
        if server.started:
            print(
                f"facecraft studio: project {studio.project.root}\nopen {url}\n(Ctrl-C stops it)", flush=True
            )
            if not args.no_browser:
                webbrowser.open(url)

    threading.Thread(target=announce, daemon=True).start()
    server.run()
    return 0
