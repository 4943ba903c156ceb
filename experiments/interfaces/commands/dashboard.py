"""`linkage dashboard`: the workshop dashboard in a browser (Solara server on this machine).

Binds to 127.0.0.1 unless another host is asked for; the dashboard has no login, so another
host exposes it to the network (a warning says so, for any address that is not loopback:
`127.1` and `localhost` are). WebSockets are accepted only from pages of this machine, or of the
address served (`experiments.interfaces.dashboard.origin`). Solara's telemetry and version check are switched off: a
workshop room may be offline, and the page needs nothing from the internet.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import warnings

APP = "experiments.interfaces.dashboard.app"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dashboard", help="the interactive workshop dashboard in a browser")
    p.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765)")
    p.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="label language (default zh)")
    p.add_argument(
        "--results",
        metavar="DIR",
        default="results",
        help="results folder where the side-by-side tab looks for attributions of two modes "
        "(linkage attribute; linkage demo writes siloed -> full linkage) (default: results)",
    )
    p.add_argument(
        "--fetch-assets",
        action="store_true",
        help="only fetch Solara's browser files for offline use (npm), then exit",
    )
    p.set_defaults(func=main)


def check_address(host: str, port: int) -> str | None:
    """Why the dashboard cannot listen on host:port (None when it can)."""
    if not 0 < port < 65536:
        return f"--port: {port} is not a valid port (1-65535)"
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        return f"--host: cannot resolve {host!r} ({e.strerror})"
    family, _, _, _, addr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(addr)
        except OSError as e:
            return f"--port: cannot listen on {host}:{port} ({e.strerror or e})"
    return None


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


INSTALL_HINT = (
    "the dashboard needs the optional 'dashboard' extra (Solara): "
    "pip install 'four-society-linkage[dashboard]' (in a checkout: .venv/bin/pip install -e '.[dashboard]')"
)


def missing_extra() -> str | None:
    """The first package of the 'dashboard' extra that is not installed (None if all are).

    Looked up without importing it: Solara reads its settings at import, set in `main` first.
    """
    import importlib.util

    for name in ("solara",):
        try:
            if importlib.util.find_spec(name) is None:
                return name
        except (ImportError, ValueError):
            return name
    return None


def main(args: argparse.Namespace) -> int:
    if missing_extra():
        print(f"error: {INSTALL_HINT}", file=sys.stderr)
        return 2
    # Settings Solara reads at import: set them before importing it.
    os.environ["LINKAGE_DASHBOARD_LANG"] = args.lang
    os.environ["LINKAGE_RESULTS"] = os.path.abspath(getattr(args, "results", "results"))
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    os.environ.setdefault("SOLARA_THEME_SHOW_BANNER", "False")
    os.environ.setdefault("SOLARA_THEME_TITLE", "四社联动 · Four-Society Linkage")
    from experiments.interfaces.dashboard.assets import ensure_assets

    if args.fetch_assets:
        still = ensure_assets(_stderr)
        if still:
            _stderr(f"error: could not fetch: {', '.join(still)}")
            return 1
        print("Solara's browser files are in place")
        return 0
    problem = check_address(args.host, args.port)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    ensure_assets(_stderr)
    # Solara warns on every page load that it falls back from samesite=none cookies over plain
    # http on a loopback address: expected here, and noise in a trainer's terminal.
    warnings.filterwarnings(
        "ignore", message="Cookies with samesite=none require https", category=UserWarning
    )
    from experiments.interfaces.dashboard.origin import OriginCheck, resolves_to_loopback

    loopback = resolves_to_loopback(args.host)
    if not loopback:
        print(
            f"warning: listening on {args.host}: anyone who can reach this machine can open the dashboard",
            file=sys.stderr,
        )
    # Solara registers the app when its server module is imported: name it first (what
    # `solara run` itself does just before uvicorn imports that module)
    os.environ["SOLARA_APP"] = APP
    import solara.server.starlette as solara_app
    from solara.__main__ import cli

    # WebSockets only from this machine's pages (or, on another --host, from the page served)
    solara_app.app.add_middleware(OriginCheck, served_on_loopback=loopback)

    print(
        f"Four-Society Linkage dashboard: http://{args.host}:{args.port}  (Ctrl+C to stop)",
        flush=True,
    )
    cli.main(
        args=[
            "run",
            APP,
            "--host",
            args.host,
            "--port",
            str(args.port),
            "--production",
            "--no-open",
            "--no-check-version",
            "--log-level",
            "warning",
        ],
        prog_name="linkage dashboard",
        standalone_mode=False,
    )
    return 0
