"""`coord init`: start coordinating in a repository, safely and more than once."""

from __future__ import annotations

import json
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path

from gitcoord import clone
from gitcoord import fileio
from gitcoord import git
from gitcoord import hooks
from gitcoord import model
from gitcoord import signing
from gitcoord import snapshot
from gitcoord import sshkeys
from gitcoord import store
from gitcoord import validation
from gitcoord.commands import agents as agent_files
from gitcoord.commands import install
from gitcoord.commands.key import read_key
from gitcoord.errors import FatalError
from gitcoord.events import Event
from gitcoord.output import Output

PRE_COMMIT_CONFIG = ".pre-commit-config.yaml"


def init(
    *,
    cwd: Path,
    example: bool,
    agents: bool,
    github: bool,
    install_spec: str | None,
    human_key: str | None = None,
    as_instance: str | None,
    out: Output,
) -> int:
    repo = git.discover(cwd)
    root = repo.root
    present = _present(root, example=example)
    creating = model.REGISTRY not in present
    if human_key is not None and not creating:
        raise FatalError(
            "--human-key gives the human coordinator's key to a new store, and this one exists: "
            "the human coordinator sets it with `coord key set HUMAN KEY` (or `coord key publish` in their clone)"
        )
    # Who this clone is, and its signing key, before the first commit: that commit is signed too.
    key = install.sign_as(root, as_instance)[0] if as_instance else None
    human = _human_key(human_key, key if as_instance == model.DEFAULT_HUMAN else None)
    # Work out every file first, and write only when nothing can refuse any more.
    plan, config_note = _plan(root, present, example=example, agents=agents, github=github, install_spec=install_spec)
    if creating and human:
        registry = json.loads(plan[store.repo_path(model.REGISTRY)])
        registry["settings"] = {**registry.get("settings", {}), "require_signatures": True, "human_key": human}
        plan[store.repo_path(model.REGISTRY)] = store.dump(model.REGISTRY, registry)
    for path, content in plan.items():
        fileio.write_atomic(root / path, content)
    changed = list(plan)
    branch = git.head_branch(root) or "main"
    if changed:
        git.add(root, changed)
        summary = "start coordinating in coordination/" + (" (seed example)" if example else "")
        git.commit(root, Event("init", as_instance, None, summary).message(), changed)
    clone.set_up(repo, branch=branch)
    data = {"initialised": bool(changed), "changed": changed, "branch": branch, "commit": git.rev_parse(root, "HEAD")}
    if changed:
        lines = [f"created or updated: {', '.join(changed)}", f"committed on {branch} as {str(data['commit'])[:12]}"]
    else:
        lines = [f"already initialised: {model.COORD_DIR}/ is valid and the setup is complete; nothing to do"]
    if key is not None:
        lines.append(f"this clone acts as {as_instance} and signs its commits with {key.path or key.origin}")
    if creating:
        data["require_signatures"] = bool(human)
        if human:
            lines.append(f"signatures are required; the human coordinator's key is {sshkeys.fingerprint(human)}")
        else:
            out.note(UNSIGNED_NOTE)
    if config_note:
        out.note(config_note)
    out.emit(data, lines)
    return 0


UNSIGNED_NOTE = f"""\
signatures are not required in this store yet, because the human coordinator
({model.DEFAULT_HUMAN}) has no key in it, so no human action could be verified. To require them, in
the human coordinator's clone:
  coord install --as {model.DEFAULT_HUMAN}    # a signing key for this clone
  coord key publish              # the human key goes into the registry
  coord key require              # from now on every coordination commit is signed
(`coord init --as {model.DEFAULT_HUMAN}`, or `coord init --human-key KEY|@FILE`, starts a store that way.)"""


def _human_key(given: str | None, mine: signing.Key | None) -> str | None:
    """The human coordinator's key for a new store: --human-key, or this clone's when it acts as the human."""
    if given is None:
        return mine.public if mine else None
    public = read_key(given)
    if mine is not None and mine.public != public:
        raise FatalError(
            f"--human-key is not the key this clone signs with ({mine.fingerprint}), yet this clone acts as "
            f"{model.DEFAULT_HUMAN}: its commits would be refused; leave out --human-key to use this clone's key"
        )
    return public


def _present(root: Path, *, example: bool) -> list[str]:
    """The coordination files already there, once it is clear that init may go on with them."""
    coord_dir = root / model.COORD_DIR
    present = [f for f in model.FILES if (coord_dir / f).exists()]
    if present and example:
        raise FatalError(f"{model.COORD_DIR}/ already holds {', '.join(present)}; --example only fills an empty store")
    if present:
        _refuse_if_invalid(coord_dir, present)
    return present


def _plan(
    root: Path, present: list[str], *, example: bool, agents: bool, github: bool, install_spec: str | None
) -> tuple[dict[str, bytes], str]:
    """Path -> the content to write there; and a note for the user, or ""."""
    documents = _example() if example else {f: store.dump(f, d) for f, d in model.empty_documents().items()}
    plan = {store.repo_path(f): content for f, content in documents.items() if f not in present}
    attributes = fileio.read_text(root / ".gitattributes")
    if fileio.with_lines(attributes, clone.ATTRIBUTES) != attributes:
        plan[".gitattributes"] = fileio.with_lines(attributes, clone.ATTRIBUTES).encode("utf-8")
    config, config_note = _pre_commit_config(fileio.read_text(root / PRE_COMMIT_CONFIG))
    if config is not None:
        plan[PRE_COMMIT_CONFIG] = config.encode("utf-8")
    if agents:
        plan.update(agent_files.plan(root))
    if github:
        wanted = workflows(install_spec)
        plan.update(
            {path: text.encode("utf-8") for path, text in wanted.items() if fileio.read_text(root / path) != text}
        )
    return plan, config_note


WORKFLOWS = ("coord-validate.yml", "coord-health.yml", "coord-decisions.yml")


def workflows(install_spec: str | None = None) -> dict[str, str]:
    """The GitHub workflows, installing `install_spec` (default: this release of gitcoord)."""
    spec = install_spec or f"gitcoord=={version('gitcoord')}"
    if "'" in spec or "\n" in spec:
        raise FatalError(f"--install {spec!r}: give a pip requirement without quotes or line breaks")
    templates = files("gitcoord.templates")
    return {
        f".github/workflows/{name}": templates.joinpath(name).read_text("utf-8").replace("@INSTALL@", spec)
        for name in WORKFLOWS
    }


def _example() -> dict[str, bytes]:
    return {f: files("gitcoord.examples").joinpath(f).read_bytes() for f in model.FILES}


def _refuse_if_invalid(coord_dir: Path, present: list[str]) -> None:
    findings = validation.check(snapshot.Snapshot(snapshot.directory_reader(coord_dir)), present)
    if findings:
        raise validation.InvalidStore(
            findings,
            f"{model.COORD_DIR}/ exists but is not valid; fix it (nothing was changed), then run `coord init` again",
        )


def _pre_commit_config(text: str) -> tuple[str | None, str]:
    """The config with gitcoord's hooks added (None: no change), and a note for the user or ""."""
    if not text:
        return "repos:\n" + hooks.local_block(), ""
    if "id: coord-validate" in text:
        return None, ""
    top_level = [line.split(":", 1)[0] for line in text.splitlines() if line[:1].isalpha() and ":" in line]
    if top_level[-1:] != ["repos"]:
        return None, f"{PRE_COMMIT_CONFIG}: add gitcoord's hooks under `repos:` by hand:\n{hooks.local_block()}"
    return text.rstrip("\n") + "\n" + hooks.local_block(), ""
