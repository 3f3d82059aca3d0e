"""Setting a repository and a clone up, and git's entry points: `coord init`, `install`, `doctor`,
`hook`, `merge-driver`, and `demo`."""

from __future__ import annotations

from pathlib import Path

import click

from gitcoord.cli.base import as_option
from gitcoord.cli.base import cli
from gitcoord.cli.base import cwd
from gitcoord.cli.base import identity
from gitcoord.cli.base import output
from gitcoord.cli.base import reading_options
from gitcoord.cli.base import where
from gitcoord.hooks import HOOK_TYPES


@cli.command()
@click.option("--example", is_flag=True, help="Start from the specification's six-instance example.")
@click.option(
    "--agents",
    is_flag=True,
    help="Tell agents the whole loop in CLAUDE.md and AGENTS.md, and add the Claude Code hooks that bring it "
    "into each session (.claude/settings.json), and its MCP server, `coord mcp` (.mcp.json).",
)
@click.option("--github", is_flag=True, help="Add the GitHub workflows: validation, health, decision pull requests.")
@click.option(
    "--install",
    "install_spec",
    metavar="SPEC",
    help="What the workflows pip-install (default: the gitcoord running now, from where it was installed).",
)
@click.option(
    "--branch",
    metavar="NAME",
    help="The store's own branch (default: coord); the branch checked out here keeps the store on it, as before.",
)
@click.option(
    "--human-key",
    metavar="KEY|@FILE",
    help="The human coordinator's public key (default: this clone's, with --as human); signatures are then required.",
)
@reading_options
def init(
    *,
    example: bool,
    agents: bool,
    github: bool,
    install_spec: str | None,
    branch: str | None,
    human_key: str | None,
    as_instance: str | None,
    as_json: bool,
) -> int:
    """Start coordinating in this repository: coordination/, .gitattributes, hooks; one commit.

    Safe to run again: it adds only what is missing and never overwrites a file.
    """
    from gitcoord.commands import init

    return init.init(
        **where(as_instance, as_json),
        example=example,
        agents=agents,
        github=github,
        install_spec=install_spec,
        human_key=human_key,
        branch=branch,
    )


@cli.command()
@click.option("--server", is_flag=True, help="In a bare repository: install the pre-receive hook, the gate.")
@click.option(
    "--no-hooks", is_flag=True, help="Leave the git and pre-commit hooks out (CI merging with the driver alone)."
)
@click.option(
    "--trust",
    metavar="KEY|@FILE",
    help="The human coordinator's public key, as they gave it to you: the store must start from it, "
    "or this clone believes none of it (with --server, the gate takes none of it).",
)
@click.option(
    "--branch",
    metavar="NAME",
    help="The branch that holds the shared store, when the code branch and coord both hold one.",
)
@reading_options
def install(
    *, server: bool, no_hooks: bool, trust: str | None, branch: str | None, as_instance: str | None, as_json: bool
) -> int:
    """Set up this clone: the merge driver, its attributes, the shared branch. Idempotent.

    With --as INSTANCE it also makes this clone act as INSTANCE and sign its commits, with
    the SSH key its git config names or gitcoord's key for INSTANCE on this machine (made
    once), and prints the public key. With --server, run in the bare repository clones push
    to, it installs the gate instead.

    The shared branch is judged from its root on first contact. With --trust, its root must
    name the human key you were given; without, the first history this clone sees is trusted.
    """
    from gitcoord.commands import install

    return install.install(**where(as_instance, as_json), server=server, hooks=not no_hooks, trust=trust, branch=branch)


@cli.command()
@click.option(
    "--driver", "driver_only", is_flag=True, help="Only check that the merge driver is registered (the hook)."
)
@reading_options
def doctor(*, driver_only: bool, as_instance: str | None, as_json: bool) -> int:
    """Is this clone set up to coordinate? Each check says what to do when it fails."""
    from gitcoord.commands import doctor

    return doctor.doctor(**where(as_instance, as_json), driver_only=driver_only)


@cli.group()
def hook() -> None:
    """Entry points for git hooks (installed by `coord install`)."""


@hook.command("pre-receive")
def hook_pre_receive() -> int:
    """The server's gate: refuse a push that rewrites coordination history or brings a bad commit."""
    import sys

    from gitcoord.commands import hook

    return hook.pre_receive(cwd=cwd(), text=sys.stdin.read())


@hook.command("run", context_settings={"ignore_unknown_options": True})
@click.argument("stage", type=click.Choice(HOOK_TYPES))
@click.argument("rest", nargs=-1)
def hook_run(*, stage: str, rest: tuple[str, ...]) -> int:
    """The coordination checks git runs before a commit, a merge commit or a push (STAGE)."""
    import sys

    from gitcoord.commands import hook

    return hook.run_checks(cwd=cwd(), stage=stage, args=rest, text=sys.stdin.read() if stage == "pre-push" else "")


@hook.command("prepare-commit-msg")
@click.argument("message_file", type=click.Path(path_type=Path))
@click.argument("rest", nargs=-1)
@as_option
def hook_prepare_commit_msg(*, message_file: Path, rest: tuple[str, ...], as_instance: str | None) -> int:
    """Add the Coord-Instance trailer to a commit that changes coordination files."""
    from gitcoord.commands import hook

    return hook.prepare_commit_msg(cwd=cwd(), as_instance=identity(as_instance), message_file=message_file)


@cli.command("merge-driver")
@click.argument("base", type=click.Path(path_type=Path))
@click.argument("ours", type=click.Path(path_type=Path))
@click.argument("theirs", type=click.Path(path_type=Path))
@click.argument("label")
def merge_driver(*, base: Path, ours: Path, theirs: Path, label: str) -> int:
    """Merge a coordination file for git: BASE OURS THEIRS PATH (%O %A %B %P).

    Registered by `coord install`; exits 0 when merged, 1 when a person must choose.
    """
    from gitcoord import driver

    return driver.merge_paths(base, ours, theirs, label)


@cli.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to create it (default: a new temporary directory).",
)
def demo(*, directory: Path | None) -> int:
    """Play the specification's example in a throwaway repository."""
    from gitcoord.commands import demo

    return demo.demo(directory=directory, out=output(False))
