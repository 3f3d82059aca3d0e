"""`coord board`: the human coordinator's page, served on this machine or written as one file."""

from __future__ import annotations

import os
import signal
import sys
import webbrowser
from pathlib import Path

from gitcoord import authenticity
from gitcoord import clone
from gitcoord import git
from gitcoord import model
from gitcoord import workspace
from gitcoord.board import page
from gitcoord.board import server
from gitcoord.commands.lookup import read_fresh
from gitcoord.errors import FatalError
from gitcoord.output import Output


def board(*, cwd: Path, html_file: Path | None, serve: bool, port: int, open_browser: bool, out: Output) -> int:
    ws = workspace.open_workspace(cwd)
    if html_file is not None:
        write_static(ws, html_file, out=out)
    if serve:
        return run_server(ws, port=port, open_browser=open_browser, out=out)
    return 0


def write_static(ws: workspace.Workspace, path: Path, *, out: Output) -> None:
    data = server.read(ws, _fetched(ws, out))
    text = page.static_html(data)
    if str(path) == "-":
        sys.stdout.write(text)
        return
    try:
        _write(path, text)
    except OSError as e:
        raise FatalError(f"cannot write {path}: {e.strerror or e}") from None
    out.tell(f"wrote {path}: the board of {ws.root.name} (branch {ws.branch}) at {str(data['commit'])[:12]}")


def _fetched(ws: workspace.Workspace, out: Output) -> git.Sha | None:
    """The shared branch as the remote has it now, in a clone set up to coordinate (`coord install`
    or `init` registered the merge driver there). A checkout CI made for the page reads the commit
    it was given: judging the remote's whole history on every run is not the page's job."""
    if f"merge.{clone.DRIVER}.driver" not in git.config(ws.root, f"merge.{clone.DRIVER}."):
        return None
    return read_fresh(ws, out).commit


def _write(path: Path, text: str) -> None:
    """Write the whole file or nothing, with the permissions any new file gets (it is meant to be shared)."""
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        part.write_text(text, "utf-8")
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)


def run_server(ws: workspace.Workspace, *, port: int, open_browser: bool, out: Output) -> int:
    server.read(ws)  # a store that cannot be shown is reported now, not on the page
    httpd = server.make_server(ws, port=port)
    url = httpd.board.url
    out.emit(None, [f"The board of {ws.root.name} (branch {ws.branch}): {url}"])
    out.tell(
        "Only this machine can reach it, and only with the token in that address; it acts as the human "
        "coordinator. Ctrl-C stops it."
    )
    refused = _refused_as_human(ws)
    if refused:
        out.note(f"its buttons would be refused here: {refused}. Serve the board from the human coordinator's clone")
    if open_browser:
        webbrowser.open(url)
    # `kill` stops it as cleanly as Ctrl-C does.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        server.serve(httpd)
    finally:  # a second signal while it closes (`timeout` sends two) ends it at once, with no trace
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    out.tell("The board has stopped.")
    return 0


def _refused_as_human(ws: workspace.Workspace) -> str | None:
    """Why a step this clone made as the human coordinator would be refused (it does not sign as
    the human, in a store that requires signatures), if it would: the same test a step makes."""
    registry = workspace.snapshot(ws, strict=False)[model.REGISTRY]
    try:
        authenticity.can_sign(ws.root, [registry], registry, model.settings_of(registry).human_coordinator)
    except FatalError as e:
        return str(e).split("; nothing was committed")[0]
    return None
