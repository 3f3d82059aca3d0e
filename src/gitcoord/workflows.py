"""The GitHub workflows `coord init --github` writes: the gitcoord they install, the branch
each one lives on, and the code CI told to skip coordination pushes.

GitHub runs a push or pull_request workflow from the files of the commit it runs for, and a
schedule or workflow_run workflow only from the default branch. So, with the store on its own
branch, validation and the decision review live on that branch, and health and the decision
merge on the code branch (the default one), where they check the store's branch out. Every
workflow installs what one file names, `.github/coord-install` on the store's branch: all of
them run the same gitcoord, and a pull request cannot choose the one that judges it.
"""

from __future__ import annotations

import json
from importlib import metadata
from importlib.resources import files
from pathlib import Path
from typing import Any
from typing import NamedTuple
from urllib.parse import unquote
from urllib.parse import urlparse

import yaml

from gitcoord import git
from gitcoord import model
from gitcoord.errors import FatalError

INSTALL_FILE = ".github/coord-install"
WORKFLOW_DIR = ".github/workflows"
ON_STORE_BRANCH = ("coord-validate.yml", "coord-decisions.yml")
ON_DEFAULT_BRANCH = ("coord-health.yml", "coord-decisions-merge.yml")
WORKFLOWS = ON_STORE_BRANCH + ON_DEFAULT_BRANCH
IGNORED = f"{model.COORD_DIR}/**"


class Spec(NamedTuple):
    """What the workflows pip-install, where that came from, and why a runner may fail to ("" if not)."""

    requirement: str
    source: str
    warning: str = ""


class Plan(NamedTuple):
    """The files to write: on the store's branch, and on the code branch checked out (path -> text)."""

    store_branch: dict[str, str]
    code_branch: dict[str, str]


def plan(root: Path, branch: str, *, same_branch: bool, spec: Spec | None) -> Plan:
    """The workflows for a store on `branch`; `spec` None keeps the install file already there."""
    templates = {name: render(name, branch, same_branch=same_branch) for name in WORKFLOWS}
    on_store = {f"{WORKFLOW_DIR}/{name}": templates[name] for name in ON_STORE_BRANCH}
    on_code = {f"{WORKFLOW_DIR}/{name}": templates[name] for name in ON_DEFAULT_BRANCH}
    if spec is not None:
        on_store[INSTALL_FILE] = install_file(spec.requirement)
    if same_branch:
        return Plan({}, {**on_store, **on_code})
    return Plan(on_store, on_code)


def render(name: str, branch: str, *, same_branch: bool) -> str:
    # On its own branch every pull request is a coordination one; beside code, only those
    # touching coordination/ get a decision review.
    paths = f'    paths: ["{IGNORED}"]\n' if same_branch else ""
    text = files("gitcoord.templates").joinpath(name).read_text("utf-8")
    return text.replace("@BRANCH@", branch).replace("@PATHS@", paths)


def install_file(requirement: str) -> str:
    return (
        "# What the coordination workflows pip-install (a pip requirements file), read from the\n"
        "# store's branch; `coord init --github --install SPEC` rewrites it.\n"
        f"{requirement}\n"
    )


def given(requirement: str) -> Spec:
    """--install SPEC, checked to be one requirement line."""
    if not requirement.strip() or "\n" in requirement or requirement.lstrip().startswith("-"):
        raise FatalError(
            f"--install {requirement!r}: give one pip requirement (e.g. 'gitcoord==0.1.0' or "
            "'gitcoord @ git+https://github.com/OWNER/REPO@COMMIT'), on one line and without options"
        )
    return Spec(requirement.strip(), "--install")


def running(root: Path, *, same_branch: bool) -> Spec:
    """The gitcoord running now, as a requirement a runner can install (PEP 610's direct_url.json)."""
    dist = metadata.distribution("gitcoord")
    text = dist.read_text("direct_url.json")
    return from_direct_url(json.loads(text) if text else None, dist.version, root=root, same_branch=same_branch)


def from_direct_url(direct: dict[str, Any] | None, version: str, *, root: Path, same_branch: bool) -> Spec:
    index = f"gitcoord=={version}"
    if direct is None:
        return Spec(index, "installed from a package index")
    url = str(direct.get("url", ""))
    if "vcs_info" in direct:
        vcs = direct["vcs_info"]
        requirement = f"gitcoord @ {vcs.get('vcs', 'git')}+{url}@{vcs.get('commit_id', '')}"
        return Spec(requirement, f"installed from {url}", _unreachable(url))
    if "archive_info" in direct:
        digest = direct["archive_info"].get("hashes", {}).get("sha256")
        requirement = f"gitcoord @ {url}" + (f"#sha256={digest}" if digest else "")
        return Spec(requirement, f"installed from {url}", _unreachable(url))
    return _from_directory(Path(unquote(urlparse(url).path)), index, root=root, same_branch=same_branch)


def _unreachable(url: str) -> str:
    if url.startswith("https://"):
        return ""
    return f"{url} is not a URL a runner can reach; give one with --install SPEC"


def _from_directory(path: Path, index: str, *, root: Path, same_branch: bool) -> Spec:
    """A gitcoord installed from a directory here: a path in this repository (when the store's
    branch holds it), or the pushed commit of the checkout it is; else the release, with a warning."""
    source = f"installed from the directory {path}"
    if path.resolve().is_relative_to(root.resolve()):
        relative = path.resolve().relative_to(root.resolve()).as_posix()
        if same_branch:
            return Spec("." if relative == "." else f"./{relative}", source + ", in this repository")
        source += ", in this repository, whose code is not on the store's branch"
    found = _pushed_commit(path)
    if isinstance(found, Spec):
        return found._replace(source=source + ", " + found.source)
    return Spec(
        index,
        source,
        f"{found}; the workflows install {index} instead, which only a package index serves: "
        "give what a runner can install with --install SPEC",
    )


def _pushed_commit(path: Path) -> Spec | str:
    """`path`'s checkout at its commit, if a remote a runner can reach holds it; else why not."""
    try:
        checkout = git.discover(path).root
    except git.NotARepository:
        return f"{path} is not a git checkout"
    head = git.rev_parse(checkout, "HEAD")
    holders = git.refs_containing(checkout, head, "refs/remotes/") if head else []
    if head is None or not holders:
        return f"{path} is at a commit no remote of that checkout holds"
    remote = holders[0].split("/")[2]
    url = https_url(git.remote_url(checkout, remote) or "")
    if url is None:
        return f"the remote {remote} of {path} has no https address"
    warning = ""
    if git.has_changes(checkout, head, ["."]):
        warning = f"{path} has uncommitted changes; the workflows install its commit {head[:12]} without them"
    return Spec(f"gitcoord @ git+{url}@{head}", f"commit {head[:12]}, held by {remote} ({url})", warning)


def https_url(url: str) -> str | None:
    """The https address of a git remote (ssh ones rewritten, e.g. git@github.com:o/r.git); None for a path."""
    if url.startswith("https://"):
        return url
    if url.startswith("ssh://"):
        parsed = urlparse(url)
        return f"https://{parsed.hostname}{parsed.path}"
    user_host, sep, path = url.partition(":")
    if sep and "@" in user_host and "/" not in user_host:
        return f"https://{user_host.split('@', 1)[1]}/{path.lstrip('/')}"
    return None


def skip_coordination_pushes(text: str) -> str | None:
    """A workflow with `paths-ignore: [coordination/**]` added to its push trigger, or None when
    it has no push trigger, already filters paths, or is not written in a form safe to edit.

    Only push: a pull request's required check that a path filter skips stays pending for ever,
    so pull requests keep running the code CI."""
    try:
        workflow = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(workflow, dict):
        return None
    triggers = workflow.get("on", workflow.get(True))
    wanted = _with_ignore(triggers)
    if wanted is None:
        return None
    edited = _edit(text, triggers)
    if edited is None:
        return None
    try:
        again = yaml.safe_load(edited)
    except yaml.YAMLError:
        return None
    # The edit is trusted only when it means exactly the trigger wanted and nothing else changed.
    key = "on" if "on" in workflow else True
    return edited if again == {**workflow, key: wanted} else None


def _with_ignore(triggers: Any) -> Any:
    ignore = {"paths-ignore": [IGNORED]}
    if triggers == "push":
        return {"push": ignore}
    if isinstance(triggers, list) and "push" in triggers:
        return {t: (ignore if t == "push" else None) for t in triggers}
    if isinstance(triggers, dict) and "push" in triggers:
        push = triggers["push"]
        if push is None:
            return {**triggers, "push": ignore}
        if isinstance(push, dict) and "paths" not in push and "paths-ignore" not in push:
            return {**triggers, "push": {**push, **ignore}}
    return None


def _edit(text: str, triggers: Any) -> str | None:
    lines = text.splitlines(keepends=True)
    ignore = f'paths-ignore: ["{IGNORED}"]'
    at = [i for i, line in enumerate(lines) if line.split("#", 1)[0].rstrip() in ("on:", '"on":', "'on':")]
    if isinstance(triggers, (str, list)):
        found = [i for i, line in enumerate(lines) if line.startswith(("on:", '"on":', "'on':"))]
        if len(found) != 1:
            return None
        block = "".join(f"  {t}:\n" + (f"    {ignore}\n" if t == "push" else "") for t in _names(triggers))
        lines[found[0]] = "on:\n" + block
        return "".join(lines)
    if len(at) != 1:
        return None
    for i in range(at[0] + 1, len(lines)):
        stripped = lines[i].split("#", 1)[0].rstrip()
        if stripped and not stripped.startswith(" "):
            break
        if stripped.strip() == "push:":
            indent = len(stripped) - len(stripped.lstrip())
            following = next((ln for ln in lines[i + 1 :] if ln.strip() and not ln.lstrip().startswith("#")), "")
            inner = len(following) - len(following.lstrip())
            step = inner - indent if inner > indent else 2
            lines.insert(i + 1, " " * (indent + step) + ignore + "\n")
            return "".join(lines)
    return None


def _names(triggers: str | list[str]) -> list[str]:
    return [triggers] if isinstance(triggers, str) else triggers
