"""Solara's browser files (the Vuetify app bundle, RequireJS, Font Awesome), available offline.

A Solara page loads its front end through the server's CDN proxy, which fetches the files from
a public CDN on first use and caches them in `<venv>/share/solara/cdn/`. A workshop room, or
this project's machines, may have no route to that CDN, and then the page stays blank. The
files are ordinary npm packages, so `ensure_assets` fills the same cache with `npm pack` from
the npm registry (once; about 19 MB) for exactly the packages that the installed Solara's page
template names. Without npm, the proxy's own fetch is the fallback.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

_CDN_REF = re.compile(r"\{\{cdn\}\}/((?:@[\w.-]+/)?[\w.-]+@[\w.-]+)/([^\"'\s]+)")


def cache_dir() -> Path:
    """The folder Solara's CDN proxy serves from."""
    from solara.server import settings

    return Path(settings.assets.proxy_cache_dir)


def required_files() -> dict[str, list[str]]:
    """Files the installed Solara's page loads from its CDN, by npm package spec (name@version)."""
    import ipyvue
    import ipywidgets
    import solara.server
    from solara.server import settings

    template = (Path(solara.server.__file__).parent / "templates" / "solara.html.j2").read_text(
        encoding="utf-8"
    )
    major = ipywidgets.__version__.split(".")[0]
    vue3 = ipyvue.__version__.startswith("3")
    out: dict[str, list[str]] = {}
    for spec, rel in _CDN_REF.findall(template):
        if ("vuetify3-app@" in spec) != vue3 and "vuetify" in spec:
            continue  # the template's other Vue branch
        rel = rel.replace("{{ipywidget_major_version}}", major)
        if "{{" in rel:
            continue
        out.setdefault(spec, []).append(rel)
    if settings.assets.fontawesome_enabled:
        spec, _, rel = settings.assets.fontawesome_path.strip("/").partition("/")
        out.setdefault(spec, []).append(rel)
    return out


def missing_packages(root: Path | None = None) -> list[str]:
    """Package specs with a required file not in the cache yet."""
    root = root or cache_dir()
    return [
        spec
        for spec, files in required_files().items()
        if not all((root / spec / f).is_file() for f in files)
    ]


def _unpack(tgz: Path, dest: Path) -> None:
    """Extract an npm tarball's `package/` folder into `dest` (atomic per package)."""
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tgz) as tar:
        tar.extractall(tmp, filter="data")
    pkg = tmp / "package"
    shutil.rmtree(dest, ignore_errors=True)
    pkg.rename(dest)
    shutil.rmtree(tmp, ignore_errors=True)


def ensure_assets(log: Callable[[str], None] = print, root: Path | None = None) -> list[str]:
    """Fetch the missing front-end packages with `npm pack` into Solara's cache.

    Args:
        log: Where progress and problems are reported (one line each).
        root: The cache folder (default: Solara's).

    Returns:
        Package specs still missing afterwards (empty when the page can load offline).
    """
    root = root or cache_dir()
    todo = missing_packages(root)
    if not todo:
        return []
    npm = shutil.which("npm")
    if npm is None:
        log("note: npm not found; Solara will fetch its browser files from its CDN on first use")
        return todo
    log(f"fetching Solara's browser files from the npm registry: {', '.join(todo)}")
    with tempfile.TemporaryDirectory() as tmp:
        for spec in todo:
            try:
                res = subprocess.run(
                    [npm, "pack", spec, "--silent", "--pack-destination", tmp],
                    capture_output=True,
                    text=True,
                    timeout=300,
                    check=False,
                )
            except (OSError, subprocess.SubprocessError) as e:
                log(f"warning: npm pack {spec} failed: {e}")
                continue
            name = res.stdout.strip().splitlines()[-1] if res.stdout.strip() else ""
            if res.returncode != 0 or not (Path(tmp) / name).is_file():
                log(
                    f"warning: npm pack {spec} failed: {(res.stderr or res.stdout).strip().splitlines()[-1:] or res.returncode}"
                )
                continue
            _unpack(Path(tmp) / name, root / spec)
    return missing_packages(root)
