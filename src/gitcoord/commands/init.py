"""`coord init`: start coordinating in a repository, safely and more than once."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from gitcoord import git
from gitcoord import hooks
from gitcoord import model
from gitcoord import store
from gitcoord.commands import install
from gitcoord.errors import FatalError
from gitcoord.events import Event
from gitcoord.output import Output

PRE_COMMIT_CONFIG = ".pre-commit-config.yaml"


def init(*, cwd: Path, example: bool, as_instance: str | None, out: Output) -> int:
    repo = git.discover(cwd)
    root = repo.root
    changed: list[str] = []
    coord_dir = root / model.COORD_DIR
    present = [f for f in model.FILES if (coord_dir / f).exists()]
    if present:
        if example:
            raise FatalError(
                f"{model.COORD_DIR}/ already holds {', '.join(present)}; --example only fills an empty store"
            )
        _refuse_if_invalid(coord_dir, present)
    documents = _example() if example else {f: store.dump(f, d) for f, d in model.empty_documents().items()}
    for file, content in documents.items():
        if file not in present:
            store.write_atomic(coord_dir / file, content)
            changed.append(store.repo_path(file))
    if store.ensure_lines(root / ".gitattributes", install.ATTRIBUTES):
        changed.append(".gitattributes")
    wrote_config, config_note = _ensure_pre_commit_config(root / PRE_COMMIT_CONFIG)
    if wrote_config:
        changed.append(PRE_COMMIT_CONFIG)
    branch = git.head_branch(root) or "main"
    if changed:
        git.add(root, changed)
        event = Event(
            "init", as_instance, None, "start coordinating in coordination/" + (" (seed example)" if example else "")
        )
        git.commit(root, event.message(), changed)
    install.install_clone(repo, branch=branch)
    data = {"initialised": bool(changed), "changed": changed, "branch": branch, "commit": git.rev_parse(root, "HEAD")}
    if changed:
        lines = [f"created or updated: {', '.join(changed)}", f"committed on {branch} as {str(data['commit'])[:12]}"]
    else:
        lines = [f"already initialised: {model.COORD_DIR}/ is valid and the setup is complete; nothing to do"]
    if config_note:
        out.note(config_note)
    out.emit(data, lines)
    return 0


def _example() -> dict[str, bytes]:
    return {f: files("gitcoord.examples").joinpath(f).read_bytes() for f in model.FILES}


def _refuse_if_invalid(coord_dir: Path, present: list[str]) -> None:
    findings = store.check(store.Snapshot(store.directory_reader(coord_dir)), present)
    if findings:
        raise store.InvalidStore(
            findings,
            f"{model.COORD_DIR}/ exists but is not valid; fix it (nothing was changed), then run `coord init` again",
        )


def _ensure_pre_commit_config(path: Path) -> tuple[bool, str]:
    """Add gitcoord's hooks: (whether the file was written, a note for the user or "")."""
    if not path.exists():
        store.write_atomic(path, ("repos:\n" + hooks.local_block()).encode("utf-8"))
        return True, ""
    text = path.read_text("utf-8")
    if "id: coord-validate" in text:
        return False, ""
    top_level = [line.split(":", 1)[0] for line in text.splitlines() if line[:1].isalpha() and ":" in line]
    if top_level[-1:] != ["repos"]:
        return False, f"{PRE_COMMIT_CONFIG}: add gitcoord's hooks under `repos:` by hand:\n{hooks.local_block()}"
    store.write_atomic(path, (text.rstrip("\n") + "\n" + hooks.local_block()).encode("utf-8"))
    return True, ""
