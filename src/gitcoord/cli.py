"""The `coord` command line: parse, then hand typed arguments to one function per command.

Only click and the standard library are imported here; a command imports what it needs
when it runs, so `coord --help` and the read path start fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from typing import NamedTuple
from typing import TypeVar

import click

from gitcoord.errors import ExitCode
from gitcoord.errors import FatalError
from gitcoord.output import Output
from gitcoord.output import error

F = TypeVar("F", bound=Callable[..., Any])


class Globals(NamedTuple):
    cwd: Path
    as_instance: str | None


def _globals() -> Globals:
    obj = click.get_current_context().find_object(Globals)
    return obj if obj is not None else Globals(Path.cwd(), None)


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print the result as JSON, with stable keys.")(f)


def as_option(f: F) -> F:
    """`--as` after the command too: `coord task claim T --as instance-1` reads naturally."""
    return click.option("--as", "as_instance", metavar="INSTANCE", help="Act as this instance.")(f)


def _identity(as_instance: str | None) -> str | None:
    return as_instance or _globals().as_instance


def _call(run: Callable[..., int], as_instance: str | None, as_json: bool, **options: Any) -> int:
    """Run a command where -C says, as the instance --as names, printing as --json asks."""
    return run(cwd=_globals().cwd, as_instance=_identity(as_instance), out=Output(as_json=as_json), **options)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--as",
    "as_instance",
    metavar="INSTANCE",
    help="Act as this instance (else $COORD_INSTANCE, else `git config coord.instance`).",
)
@click.option(
    "-C", "directory", type=click.Path(file_okay=False, path_type=Path), help="Run as if started in this directory."
)
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    help="Colour the output (NO_COLOR is honoured).",
)
@click.version_option(package_name="gitcoord", prog_name="coord")
@click.pass_context
def cli(ctx: click.Context, as_instance: str | None, directory: Path | None, color: str) -> None:
    """Coordinate several coding agents through JSON files kept in git.

    Each protocol step is one commit on the shared branch; `coord sync` exchanges them
    with the other clones, and a merge driver merges concurrent edits record by record.
    """
    if color == "never" or (color == "auto" and os.environ.get("NO_COLOR")):
        ctx.color = False
    elif color == "always":
        ctx.color = True
    ctx.obj = Globals((directory or Path.cwd()).resolve(), as_instance)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--since", metavar="REV", help="Check only what changed since REV, a valid state (the hook uses HEAD).")
@json_option
def validate(*, paths: tuple[Path, ...], since: str | None, as_json: bool) -> int:
    """Check the coordination files: schemas and invariants, every problem at once.

    PATHS are coordination directories or files in one (default: coordination/ of this
    repository). Exits 1 when anything is wrong.
    """
    from gitcoord.commands.validate import validate as run

    return run(paths, cwd=_globals().cwd, since=since, out=Output(as_json=as_json))


@cli.command()
@as_option
@json_option
def status(*, as_instance: str | None, as_json: bool) -> int:
    """The board: instances, tasks by status, open messages, pending decisions."""
    from gitcoord.commands.status import status as run

    return _call(run, as_instance, as_json)


@cli.command()
@click.option("--example", is_flag=True, help="Start from the specification's six-instance example.")
@click.option(
    "--agents", is_flag=True, help="Add the startup checklist to CLAUDE.md and AGENTS.md, and a SessionStart hook."
)
@click.option("--github", is_flag=True, help="Add the GitHub workflows: validation, health, decision pull requests.")
@click.option(
    "--install", "install_spec", metavar="SPEC", help="What the workflows pip-install (default: this gitcoord release)."
)
@click.option(
    "--human-key",
    metavar="KEY|@FILE",
    help="The human coordinator's public key (default: this clone's, with --as human); signatures are then required.",
)
@as_option
@json_option
def init(
    *,
    example: bool,
    agents: bool,
    github: bool,
    install_spec: str | None,
    human_key: str | None,
    as_instance: str | None,
    as_json: bool,
) -> int:
    """Start coordinating in this repository: coordination/, .gitattributes, hooks; one commit.

    Safe to run again: it adds only what is missing and never overwrites a file.
    """
    from gitcoord.commands.init import init as run

    out = Output(as_json=as_json)
    identity = _identity(as_instance)
    return run(
        cwd=_globals().cwd,
        example=example,
        agents=agents,
        github=github,
        install_spec=install_spec,
        human_key=human_key,
        as_instance=identity,
        out=out,
    )


@cli.command()
@click.option("--server", is_flag=True, help="In a bare repository: install the pre-receive hook, the gate.")
@as_option
@json_option
def install(*, server: bool, as_instance: str | None, as_json: bool) -> int:
    """Set up this clone: the merge driver, its attributes, the shared branch. Idempotent.

    With --as INSTANCE it also makes this clone act as INSTANCE and sign its commits, with
    the SSH key its git config names or gitcoord's key for INSTANCE on this machine (made
    once), and prints the public key. With --server, run in the bare repository clones push
    to, it installs the gate instead.
    """
    from gitcoord.commands.install import install as run

    return run(cwd=_globals().cwd, as_instance=_identity(as_instance), server=server, out=Output(as_json=as_json))


# Protocol 1 and the registry -------------------------------------------------------------


def sync_option(f: F) -> F:
    help_text = "Share the commit with the other clones at once (default: git config coord.sync)."
    return click.option("--sync/--no-sync", "sync", default=None, help=help_text)(f)


def no_commit_option(f: F) -> F:
    f = click.option(
        "--no-commit", is_flag=True, help="Stage the change for a person to commit instead of committing it."
    )(f)
    return sync_option(f)


def _step(
    build: Any,
    as_instance: str | None,
    as_json: bool,
    *,
    creates: str | None = None,
    no_commit: bool = False,
    sync: bool | None = None,
) -> int:
    from gitcoord.commands import step

    out = Output(as_json=as_json)
    identity = _identity(as_instance)
    return step.run(
        build, cwd=_globals().cwd, as_instance=identity, out=out, creates=creates, no_commit=no_commit, sync=sync
    )


def _read_text(text: str | None, path: str | None, *, what: str) -> str:
    """Long text from an option, a file, or standard input ('-'), so that no shell quoting gets in the way."""
    if (text is None) == (path is None):
        raise click.UsageError(
            f"give the {what} with --{what} TEXT or --{what}-file FILE (- for standard input), not both"
        )
    if text is not None:
        return text
    assert path is not None
    try:
        return sys.stdin.read() if path == "-" else Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise click.BadParameter(f"cannot read {path}: {e}", param_hint=f"--{what}-file") from None


@cli.command()
@click.argument("instance")
@click.option("--role", required=True, help="What the instance does, e.g. frontend-ux.")
@click.option("--expertise", multiple=True, metavar="AREA", help="An area of expertise (repeat for more).")
@click.option("--key", metavar="KEY|@FILE", help="Its signing key (default, registering myself: this clone's).")
@sync_option
@as_option
@json_option
def register(
    *,
    instance: str,
    role: str,
    expertise: tuple[str, ...],
    key: str | None,
    sync: bool | None,
    as_instance: str | None,
    as_json: bool,
) -> int:
    """Add INSTANCE to the registry (status pending until it checks in), with its signing key."""
    from gitcoord.commands.key import register as run

    return _call(run, as_instance, as_json, instance=instance, role=role, expertise=list(expertise), key=key, sync=sync)


@cli.command()
@as_option
@json_option
def whoami(*, as_instance: str | None, as_json: bool) -> int:
    """Which instance this shell acts as, and where that comes from."""
    from gitcoord.commands.read import whoami as run

    return _call(run, as_instance, as_json)


@cli.command()
@sync_option
@as_option
@json_option
def checkin(*, sync: bool | None, as_instance: str | None, as_json: bool) -> int:
    """Check in (Protocol 1), then print my briefing: tasks, messages, decisions, what is ready.

    With --sync (or `git config coord.sync true`) it first fetches what the others did.
    """
    from gitcoord.commands.checkin import checkin as run

    return _call(run, as_instance, as_json, sync=sync)


@cli.command()
@sync_option
@as_option
@json_option
def checkout(*, sync: bool | None, as_instance: str | None, as_json: bool) -> int:
    """Check out: offline and not available; the tasks I hold stay mine (and are listed)."""
    from gitcoord.commands.checkin import checkout as run

    return _call(run, as_instance, as_json, sync=sync)


# Protocol 2: tasks -----------------------------------------------------------------------


@cli.group()
def task() -> None:
    """Protocol 2: create, offer, accept or decline, claim, work on and finish tasks."""


@task.command("add")
@click.argument("title")
@click.option("--description", default="", help="What the task is about.")
@click.option("--priority", type=click.Choice(["high", "medium", "low"]), default="medium", show_default=True)
@click.option("--due", metavar="ISO8601", help="When it is due, e.g. 2024-01-16T18:00:00Z.")
@click.option("--depends", multiple=True, metavar="TASK", help="A task that must be completed first (repeat for more).")
@click.option("--expertise", multiple=True, metavar="AREA", help="Expertise the task needs (repeat for more).")
@click.option("--suggest", metavar="INSTANCE", help="Who should do it.")
@click.option("--deliverable", multiple=True, metavar="PATH", help="A path it produces, inside the repository.")
@no_commit_option
@as_option
@json_option
def task_add(
    *,
    title: str,
    description: str,
    priority: str,
    due: str | None,
    depends: tuple[str, ...],
    expertise: tuple[str, ...],
    suggest: str | None,
    deliverable: tuple[str, ...],
    no_commit: bool,
    sync: bool | None,
    as_instance: str | None,
    as_json: bool,
) -> int:
    """Create a task; prints its id."""
    from gitcoord.protocol import tasks

    def build(s: Any, c: Any) -> Any:
        return tasks.add(
            s,
            c,
            title,
            description=description,
            priority=priority,
            due=due,
            depends=depends,
            expertise=expertise,
            suggest=suggest,
            deliverables=deliverable,
        )

    return _step(build, as_instance, as_json, creates="task_id", no_commit=no_commit, sync=sync)


def _task_step(name: str, doc: str, *, reason: bool = False, target: bool = False) -> None:
    """Declare `coord task NAME TASK` for a step that takes a task (and maybe a reason or an instance)."""

    def command(
        *,
        task_id: str,
        as_instance: str | None,
        as_json: bool,
        no_commit: bool,
        sync: bool | None,
        reason: str | None = None,
        instance: str | None = None,
    ) -> int:
        from gitcoord.protocol import tasks

        fn = getattr(tasks, name)
        args = [a for a in (instance, reason) if a is not None]
        return _step(lambda s, c: fn(s, c, task_id, *args), as_instance, as_json, no_commit=no_commit, sync=sync)

    command.__doc__ = doc
    decorated: Any = command
    for decorator in (json_option, as_option, no_commit_option):
        decorated = decorator(decorated)
    if reason:
        decorated = click.option("--reason", required=True, help="Why; kept with the task.")(decorated)
    if target:
        decorated = click.argument("instance")(decorated)
    decorated = click.argument("task_id", metavar="TASK")(decorated)
    task.command(name)(decorated)


_task_step("assign", "Offer TASK to INSTANCE, who accepts or declines it.", target=True)
_task_step("accept", "Accept TASK, offered to me.")
_task_step("decline", "Decline TASK, offered to me; it goes back to the queue with the reason.", reason=True)
_task_step("claim", "Take TASK myself: it must be ready (its dependencies completed) and not offered to another.")
_task_step("start", "Start working on TASK, which I hold; its dependencies must be completed.")
_task_step("block", "Mark TASK, which I hold, as blocked.", reason=True)
_task_step("complete", "Mark TASK, which I am working on, as completed.")
_task_step("release", "Give TASK, which I hold, back to the queue.", reason=True)
_task_step("cancel", "Cancel TASK (its holder, its creator or the human coordinator).", reason=True)


@task.command("ready")
@click.option(
    "--mine", is_flag=True, help="Only tasks that fit me: offered to me, suggested for me, or needing my expertise."
)
@as_option
@json_option
def task_ready(*, mine: bool, as_instance: str | None, as_json: bool) -> int:
    """Tasks that can be taken now: unassigned, every dependency completed."""
    from gitcoord.commands.read import task_ready as run

    return _call(run, as_instance, as_json, mine=mine)


@task.command("list")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(
        ["pending_assignment", "offered", "assigned", "in_progress", "blocked", "completed", "cancelled"]
    ),
)
@click.option("--assigned-to", "holder", metavar="INSTANCE", help="Only tasks assigned or offered to INSTANCE.")
@click.option("--mine", is_flag=True, help="Only tasks assigned or offered to me.")
@as_option
@json_option
def task_list(
    *, statuses: tuple[str, ...], holder: str | None, mine: bool, as_instance: str | None, as_json: bool
) -> int:
    """List tasks, most urgent first."""
    from gitcoord.commands.read import task_list as run

    return _call(run, as_instance, as_json, statuses=statuses, holder=holder, mine=mine)


@task.command("show")
@click.argument("task_id", metavar="TASK")
@as_option
@json_option
def task_show(*, task_id: str, as_instance: str | None, as_json: bool) -> int:
    """One task, with the status of its dependencies and what depends on it."""
    from gitcoord.commands.read import task_show as run

    return _call(run, as_instance, as_json, task_id=task_id)


# Protocol 3: consultation ----------------------------------------------------------------


@cli.group()
def msg() -> None:
    """Protocol 3: ask another instance, answer in the same thread, close it."""


@msg.command("send")
@click.option("--to", required=True, metavar="INSTANCE", help="Who it is for ('all' for every instance).")
@click.option("--subject", required=True)
@click.option("--body", help="The message.")
@click.option("--body-file", metavar="FILE", help="Read the message from FILE ('-' for standard input).")
@click.option("--requires-response", is_flag=True, help="A consultation: the recipient owes an answer.")
@click.option("--priority", type=click.Choice(["high", "medium", "low"]), default="medium", show_default=True)
@click.option("--task", "task_id", metavar="TASK", help="The task it is about.")
@click.option("--decision", "decision_id", metavar="DEC", help="The decision it is about.")
@click.option("--file", "files", multiple=True, metavar="PATH", help="A file it is about (repeat for more).")
@no_commit_option
@as_option
@json_option
def msg_send(
    *,
    to: str,
    subject: str,
    body: str | None,
    body_file: str | None,
    requires_response: bool,
    priority: str,
    task_id: str | None,
    decision_id: str | None,
    files: tuple[str, ...],
    no_commit: bool,
    sync: bool | None,
    as_instance: str | None,
    as_json: bool,
) -> int:
    """Send a message; prints its id."""
    from gitcoord.protocol import messages

    text = _read_text(body, body_file, what="body")

    def build(s: Any, c: Any) -> Any:
        return messages.send(
            s,
            c,
            to=to,
            subject=subject,
            body=text,
            requires_response=requires_response,
            priority=priority,
            task=task_id,
            decision=decision_id,
            files=files,
        )

    return _step(build, as_instance, as_json, creates="message_id", no_commit=no_commit, sync=sync)


@msg.command("reply")
@click.argument("message_id", metavar="MSG")
@click.option("--body", help="The answer.")
@click.option("--body-file", metavar="FILE", help="Read the answer from FILE ('-' for standard input).")
@no_commit_option
@as_option
@json_option
def msg_reply(
    *,
    message_id: str,
    body: str | None,
    body_file: str | None,
    no_commit: bool,
    sync: bool | None,
    as_instance: str | None,
    as_json: bool,
) -> int:
    """Answer MSG, sent to me, in its thread; prints the answer's id."""
    from gitcoord.protocol import messages

    text = _read_text(body, body_file, what="body")
    return _step(
        lambda s, c: messages.reply(s, c, message_id, text),
        as_instance,
        as_json,
        creates="message_id",
        no_commit=no_commit,
        sync=sync,
    )


@msg.command("ack")
@click.argument("message_id", metavar="MSG")
@no_commit_option
@as_option
@json_option
def msg_ack(*, message_id: str, no_commit: bool, sync: bool | None, as_instance: str | None, as_json: bool) -> int:
    """Close the thread I started with MSG (or acknowledge MSG, sent to me)."""
    from gitcoord.protocol import messages

    return _step(lambda s, c: messages.ack(s, c, message_id), as_instance, as_json, no_commit=no_commit, sync=sync)


@msg.command("show")
@click.argument("message_id", metavar="MSG")
@as_option
@json_option
def msg_show(*, message_id: str, as_instance: str | None, as_json: bool) -> int:
    """MSG and every answer in its thread."""
    from gitcoord.commands.read import thread_show as run

    return _call(run, as_instance, as_json, message_id=message_id)


@cli.command()
@click.option("--all", "everything", is_flag=True, help="Include broadcasts from before my last check-in.")
@as_option
@json_option
def inbox(*, everything: bool, as_instance: str | None, as_json: bool) -> int:
    """What waits for me: answers I owe, answers to my questions, notices, decisions needing my input."""
    from gitcoord.commands.read import inbox as run

    return _call(run, as_instance, as_json, everything=everything)


# Protocol 4: decisions, and escalation -----------------------------------------------------


@cli.group()
def decision() -> None:
    """Protocol 4: propose with options, gather inputs, decide; escalate to the human."""


@decision.command("propose")
@click.argument("title")
@click.option("--option", "option_names", multiple=True, metavar="NAME", help="An option to choose between (repeat).")
@click.option(
    "--options-file",
    metavar="FILE",
    help='Options as JSON: [{"option": NAME, "pros": [...], "cons": [...]}] (- for stdin).',
)
@click.option("--input-from", multiple=True, metavar="INSTANCE", help="Whose input is needed (repeat).")
@click.option("--deadline", metavar="ISO8601", help="When the inputs are due.")
@click.option("--description", default="")
@click.option("--task", "task_ids", multiple=True, metavar="TASK", help="A related task (repeat).")
@no_commit_option
@as_option
@json_option
def decision_propose(
    *,
    title: str,
    option_names: tuple[str, ...],
    options_file: str | None,
    input_from: tuple[str, ...],
    deadline: str | None,
    description: str,
    task_ids: tuple[str, ...],
    no_commit: bool,
    sync: bool | None,
    as_instance: str | None,
    as_json: bool,
) -> int:
    """Propose a decision; prints its id."""
    import json

    from gitcoord.protocol import decisions

    options: list[Any] = [{"option": n, "pros": [], "cons": []} for n in option_names]
    if options_file is not None:
        try:
            loaded = json.loads(_read_text(None, options_file, what="options"))
        except json.JSONDecodeError as e:
            raise click.BadParameter(f"not JSON: {e}", param_hint="--options-file") from None
        if not isinstance(loaded, list) or not all(
            isinstance(o, dict) and isinstance(o.get("option"), str) for o in loaded
        ):
            raise click.BadParameter(
                'expected a list like [{"option": "REST", "pros": [], "cons": []}]', param_hint="--options-file"
            )
        options += loaded

    def build(s: Any, c: Any) -> Any:
        return decisions.propose(
            s,
            c,
            title,
            options=options,
            input_from=input_from,
            deadline=deadline,
            description=description,
            tasks=task_ids,
        )

    return _step(build, as_instance, as_json, creates="decision_id", no_commit=no_commit, sync=sync)


@decision.command("input")
@click.argument("decision_id", metavar="DEC")
@click.option("--option", required=True, metavar="NAME", help="The option I favour.")
@click.option("--comment", default="", help="Why.")
@no_commit_option
@as_option
@json_option
def decision_input(
    *,
    decision_id: str,
    option: str,
    comment: str,
    no_commit: bool,
    sync: bool | None,
    as_instance: str | None,
    as_json: bool,
) -> int:
    """Give my input on DEC (again to change it)."""
    from gitcoord.protocol import decisions

    return _step(
        lambda s, c: decisions.give_input(s, c, decision_id, option, comment),
        as_instance,
        as_json,
        no_commit=no_commit,
        sync=sync,
    )


@decision.command("decide")
@click.argument("decision_id", metavar="DEC")
@click.option("--option", required=True, metavar="NAME", help="The option chosen.")
@click.option("--rationale", required=True, help="Why.")
@click.option(
    "--affects",
    multiple=True,
    metavar="INSTANCE",
    help="Who it affects ('all' for everyone); default: everyone involved.",
)
@click.option("--force", is_flag=True, help="Decide even though some inputs are missing.")
@no_commit_option
@as_option
@json_option
def decision_decide(
    *,
    decision_id: str,
    option: str,
    rationale: str,
    affects: tuple[str, ...],
    force: bool,
    no_commit: bool,
    sync: bool | None,
    as_instance: str | None,
    as_json: bool,
) -> int:
    """Make the final call on DEC (its proposer; once escalated, the human coordinator)."""
    from gitcoord.protocol import decisions

    def build(s: Any, c: Any) -> Any:
        return decisions.decide(s, c, decision_id, option=option, rationale=rationale, affects=affects, force=force)

    return _step(build, as_instance, as_json, no_commit=no_commit, sync=sync)


@decision.command("list")
@click.option(
    "--pending", "which", flag_value="pending", default=True, help="Pending and escalated decisions (default)."
)
@click.option("--decided", "which", flag_value="decided", help="Decisions made.")
@click.option("--all", "which", flag_value="all", help="Both.")
@as_option
@json_option
def decision_list(*, which: str, as_instance: str | None, as_json: bool) -> int:
    """List decisions."""
    from gitcoord.commands.read import decision_list as run

    return _call(run, as_instance, as_json, which=which)


@decision.command("show")
@click.argument("decision_id", metavar="DEC")
@as_option
@json_option
def decision_show(*, decision_id: str, as_instance: str | None, as_json: bool) -> int:
    """One decision: options, inputs given and missing, escalation, outcome."""
    from gitcoord.commands.read import decision_show as run

    return _call(run, as_instance, as_json, decision_id=decision_id)


@decision.command("pr")
@click.option("--range", "revisions", required=True, metavar="BASE..HEAD", help="The pull request's base and head.")
@click.option(
    "--output-file",
    type=click.Path(path_type=Path),
    help="Append decided=true|false and changed=N (e.g. $GITHUB_OUTPUT).",
)
@as_option
@json_option
def decision_pr(*, revisions: str, output_file: Path | None, as_instance: str | None, as_json: bool) -> int:
    """What a pull request does to the decision log: inputs received and missing, and whether all is decided."""
    from gitcoord.commands.decision_pr import run

    out = Output(as_json=as_json)
    return run(
        cwd=_globals().cwd, as_instance=_identity(as_instance), revisions=revisions, output_file=output_file, out=out
    )


@cli.command()
@click.argument("subject", metavar="TASK|MSG|DEC")
@click.option("--reason", required=True, help="The disagreement, in my words.")
@click.option(
    "--position", "positions", multiple=True, metavar="INSTANCE=TEXT", help="Another side's position (repeat)."
)
@no_commit_option
@as_option
@json_option
def escalate(
    *,
    subject: str,
    reason: str,
    positions: tuple[str, ...],
    no_commit: bool,
    sync: bool | None,
    as_instance: str | None,
    as_json: bool,
) -> int:
    """Escalate a disagreement to the human coordinator, recorded in the decision log; prints its id."""
    from gitcoord.protocol import decisions

    sides = []
    for p in positions:
        who, sep, text = p.partition("=")
        if not sep or not who or not text:
            raise click.BadParameter(f"{p!r}: expected INSTANCE=TEXT", param_hint="--position")
        sides.append((who, text))
    return _step(
        lambda s, c: decisions.escalate(s, c, subject, reason=reason, positions=sides),
        as_instance,
        as_json,
        creates="decision_id",
        no_commit=no_commit,
        sync=sync,
    )


@cli.command()
@click.option("--instance", metavar="INSTANCE", help="Only events by INSTANCE.")
@click.option("--subject", metavar="ID", help="Only events about this task, message or decision.")
@click.option("-n", "limit", type=int, default=50, show_default=True, help="How many events.")
@as_option
@json_option
def log(*, instance: str | None, subject: str | None, limit: int, as_instance: str | None, as_json: bool) -> int:
    """The event log: coordination commits on the shared branch, newest first."""
    from gitcoord.commands.read import log as run

    return _call(run, as_instance, as_json, instance=instance, subject=subject, limit=limit)


@cli.command()
@click.option(
    "--range", "revisions", metavar="BASE..HEAD", help="Replay every commit in the range (default: the staged change)."
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="github: workflow annotations.",
)
@as_option
@json_option
def check(*, revisions: str | None, output_format: str, as_instance: str | None, as_json: bool) -> int:
    """Check transitions, history and authorization: of the staged change, or of each commit in a range.

    The pre-commit hook checks the staged change as the configured instance; CI runs
    `coord check --range BASE..HEAD`, taking each commit's instance from its Coord-Instance
    trailer. Exits 1 when a rule is broken, naming the first commit that broke each rule.
    """
    from gitcoord.commands.check import check as run

    fmt = "json" if as_json else output_format
    out = Output(as_json=fmt == "json")
    return run(cwd=_globals().cwd, as_instance=_identity(as_instance), revisions=revisions, output_format=fmt, out=out)


@cli.command()
@click.option(
    "--driver", "driver_only", is_flag=True, help="Only check that the merge driver is registered (the hook)."
)
@as_option
@json_option
def doctor(*, driver_only: bool, as_instance: str | None, as_json: bool) -> int:
    """Is this clone set up to coordinate? Each check says what to do when it fails."""
    from gitcoord.commands.doctor import doctor as run

    return _call(run, as_instance, as_json, driver_only=driver_only)


@cli.group()
def hook() -> None:
    """Entry points for git hooks (installed by `coord install`)."""


@hook.command("pre-receive")
def hook_pre_receive() -> int:
    """The server's gate: refuse a push that rewrites coordination history or brings a bad commit."""
    from gitcoord.commands.hook import pre_receive

    return pre_receive(cwd=_globals().cwd, text=sys.stdin.read())


@hook.command("prepare-commit-msg")
@click.argument("message_file", type=click.Path(path_type=Path))
@click.argument("rest", nargs=-1)
@as_option
def hook_prepare_commit_msg(*, message_file: Path, rest: tuple[str, ...], as_instance: str | None) -> int:
    """Add the Coord-Instance trailer to a commit that changes coordination files."""
    from gitcoord.commands.hook import prepare_commit_msg

    return prepare_commit_msg(cwd=_globals().cwd, as_instance=_identity(as_instance), message_file=message_file)


@cli.command()
@click.argument("record", required=False)
@click.argument("field", required=False)
@click.option("--pick", type=int, metavar="N", help="Keep the Nth of the conflict's values.")
@click.option("--value", metavar="JSON", help="Keep this value instead (JSON).")
@json_option
def resolve(*, record: str | None, field: str | None, pick: int | None, value: str | None, as_json: bool) -> int:
    """Settle a merge conflict the merge driver left in this working tree (no arguments: list them).

    RECORD is a task, message or decision id, or an instance name ($ for the file itself);
    FIELD the field both sides changed. When a file has no conflict left it is staged.
    """
    from gitcoord.commands.resolve import resolve as run

    return run(cwd=_globals().cwd, record=record, field=field, pick=pick, value=value, out=Output(as_json=as_json))


@cli.command("sync")
@as_option
@json_option
def sync_command(*, as_instance: str | None, as_json: bool) -> int:
    """Exchange coordination commits with the remote: fetch, merge with the driver, validate, push.

    Retries with backoff when another instance pushed first, and reports what concerns me:
    a claim I lost, tasks offered to me, new messages, decisions made.
    """
    from gitcoord.commands.sync import run

    return _call(run, as_instance, as_json)


@cli.command()
@click.option("--now", metavar="ISO8601", help="Check as of this moment instead of now (a fixed clock).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "markdown", "github"]),
    default="text",
    show_default=True,
)
@click.option("--issue", is_flag=True, help="Open, update or close the labelled GitHub issue to match (uses `gh`).")
@as_option
@json_option
def health(*, now: str | None, output_format: str, issue: bool, as_instance: str | None, as_json: bool) -> int:
    """The specification's health checks: check-ins, answers, deadlines, decisions, escalations.

    Exits 1 when any finding is an error. The thresholds are the registry's settings
    (checkin_hours, response_hours, lease_hours; defaults 24, 4 and 24).
    """
    from gitcoord.commands.health import run

    fmt = "json" if as_json else output_format
    out = Output(as_json=fmt == "json")
    return run(cwd=_globals().cwd, as_instance=_identity(as_instance), now=now, output_format=fmt, issue=issue, out=out)


@cli.command()
@sync_option
@as_option
@json_option
def reclaim(*, sync: bool | None, as_instance: str | None, as_json: bool) -> int:
    """Return tasks held by instances that have not checked in within the lease; tell each holder."""
    from gitcoord.commands.health import reclaim as run

    return _call(run, as_instance, as_json, sync=sync)


@cli.command()
@click.option(
    "--older-than",
    "days",
    type=int,
    default=30,
    show_default=True,
    metavar="DAYS",
    help="Archive what closed more than DAYS ago.",
)
@click.option("--before", metavar="ISO8601", help="Archive what closed before this moment instead.")
@click.option("--dry-run", is_flag=True, help="Say what would move, and move nothing.")
@sync_option
@as_option
@json_option
def archive(
    *, days: int, before: str | None, dry_run: bool, sync: bool | None, as_instance: str | None, as_json: bool
) -> int:
    """Move closed tasks, threads and decisions older than a cut-off to coordination/archive/.

    The live files stay small; references to archived records stay valid. A task moves
    only when no live task depends on it.
    """
    from gitcoord.commands.archive import run

    identity = _identity(as_instance)
    out = Output(as_json=as_json)
    return run(cwd=_globals().cwd, as_instance=identity, days=days, before=before, dry_run=dry_run, sync=sync, out=out)


# Signing keys --------------------------------------------------------------------------


@cli.group()
def key() -> None:
    """Signing keys: each instance signs its coordination commits; the registry holds the keys."""


@key.command("show")
@as_option
@json_option
def key_show(*, as_instance: str | None, as_json: bool) -> int:
    """The key this clone signs with, and the key the registry holds for me."""
    from gitcoord.commands.key import show as run

    return _call(run, as_instance, as_json)


@key.command("publish")
@sync_option
@as_option
@json_option
def key_publish(*, sync: bool | None, as_instance: str | None, as_json: bool) -> int:
    """Put this clone's public key in my registry entry (the human coordinator's: the human key)."""
    from gitcoord.commands.key import publish as run

    return _call(run, as_instance, as_json, sync=sync)


@key.command("set")
@click.argument("instance")
@click.argument("public_key", metavar="KEY|@FILE")
@sync_option
@as_option
@json_option
def key_set(*, instance: str, public_key: str, sync: bool | None, as_instance: str | None, as_json: bool) -> int:
    """Set the signing key of INSTANCE (the human coordinator: anyone's, and the human key; an instance: its own)."""
    from gitcoord.commands.key import set_key as run

    return _call(run, as_instance, as_json, instance=instance, key=public_key, sync=sync)


@key.command("rotate")
@sync_option
@as_option
@json_option
def key_rotate(*, sync: bool | None, as_instance: str | None, as_json: bool) -> int:
    """Make a new key for me, publish it in a commit signed with the old one, and sign with the new one."""
    from gitcoord.commands.key import rotate as run

    return _call(run, as_instance, as_json, sync=sync)


@key.command("require")
@sync_option
@as_option
@json_option
def key_require(*, sync: bool | None, as_instance: str | None, as_json: bool) -> int:
    """Require every coordination commit to be signed (the human coordinator; every active instance needs a key)."""
    from gitcoord.commands.key import require as run

    return _call(run, as_instance, as_json, sync=sync)


@cli.command("merge-driver")
@click.argument("base", type=click.Path(path_type=Path))
@click.argument("ours", type=click.Path(path_type=Path))
@click.argument("theirs", type=click.Path(path_type=Path))
@click.argument("label")
def merge_driver(*, base: Path, ours: Path, theirs: Path, label: str) -> int:
    """Merge a coordination file for git: BASE OURS THEIRS PATH (%O %A %B %P).

    Registered by `coord install`; exits 0 when merged, 1 when a person must choose.
    """
    from gitcoord.driver import run

    return run(base, ours, theirs, label)


@cli.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to create it (default: a new temporary directory).",
)
def demo(*, directory: Path | None) -> int:
    """Play the specification's example in a throwaway repository."""
    from gitcoord.commands.demo import demo as run

    return run(directory=directory, out=Output(as_json=False))


def main(argv: Sequence[str] | None = None) -> int:
    try:
        result = cli.main(args=list(argv) if argv is not None else None, prog_name="coord", standalone_mode=False)
    except click.exceptions.Exit as e:  # --help, --version
        return e.exit_code
    except click.exceptions.Abort:
        return ExitCode.INTERRUPTED
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except FatalError as e:
        error(str(e))
        return ExitCode.FAILED
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except Exception:
        return _unexpected()
    return int(result or 0)


def _unexpected() -> int:
    import tempfile
    import traceback
    from importlib.metadata import version

    log = Path(tempfile.gettempdir()) / "gitcoord-error.log"
    details = f"gitcoord {version('gitcoord')}, Python {sys.version.split()[0]}\n{traceback.format_exc()}"
    try:
        log.write_text(details, "utf-8")
        where = f"details in {log}"
    except OSError:  # pragma: no cover (an unwritable temp directory)
        where = "details follow"
        click.echo(details, err=True)
    error(f"unexpected error: this is a bug in gitcoord; please report it ({where})")
    if os.environ.get("COORD_DEBUG"):
        click.echo(details, err=True)
    return ExitCode.UNEXPECTED
