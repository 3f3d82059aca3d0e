"""`coord task ...`: Protocol 2."""

from __future__ import annotations

import click

from gitcoord import rulebook
from gitcoord.cli.base import TITLE
from gitcoord.cli.base import cli
from gitcoord.cli.base import reading_options
from gitcoord.cli.base import step_options
from gitcoord.cli.base import step_where
from gitcoord.cli.base import text_option
from gitcoord.cli.base import where
from gitcoord.rulebook import Priority

task_argument = click.argument("task_id", metavar="TASK")
reason_option = text_option("reason", says="Why; kept with the task.", required=True)


@cli.group()
def task() -> None:
    """Protocol 2: create, offer, accept or decline, claim, work on and finish tasks."""


@task.command("add")
@click.argument("title", type=TITLE)
@text_option("description", says="What the task is about.", default="")
@click.option("--priority", type=click.Choice(rulebook.PRIORITIES), default="medium", show_default=True)
@click.option("--due", metavar="WHEN", help="When it is due: +3d, +2h, 2024-01-16T18:00 (local) or ...T18:00:00Z.")
@click.option("--depends", multiple=True, metavar="TASK", help="A task that must be completed first (repeat for more).")
@click.option("--expertise", multiple=True, metavar="AREA", help="Expertise the task needs (repeat for more).")
@click.option("--suggest", metavar="INSTANCE", help="Who should do it.")
@click.option("--deliverable", multiple=True, metavar="PATH", help="A path it produces, inside the repository.")
@step_options
def task_add(
    *,
    title: str,
    description: str,
    priority: Priority,
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
    from gitcoord.commands import tasks

    return tasks.add(
        **step_where(as_instance, as_json, no_commit=no_commit, sync=sync),
        title=title,
        description=description,
        priority=priority,
        due=due,
        depends=depends,
        expertise=expertise,
        suggest=suggest,
        deliverables=deliverable,
    )


@task.command("assign")
@task_argument
@click.argument("instance")
@step_options
def task_assign(
    *, task_id: str, instance: str, no_commit: bool, sync: bool | None, as_instance: str | None, as_json: bool
) -> int:
    """Offer TASK to INSTANCE, who accepts or declines it."""
    from gitcoord.commands import tasks

    return tasks.assign(
        **step_where(as_instance, as_json, no_commit=no_commit, sync=sync), task_id=task_id, instance=instance
    )


@task.command("accept")
@task_argument
@step_options
def task_accept(*, task_id: str, no_commit: bool, sync: bool | None, as_instance: str | None, as_json: bool) -> int:
    """Accept TASK, offered to me."""
    from gitcoord.commands import tasks

    return tasks.accept(**step_where(as_instance, as_json, no_commit=no_commit, sync=sync), task_id=task_id)


@task.command("decline")
@task_argument
@reason_option
@step_options
def task_decline(
    *, task_id: str, reason: str, no_commit: bool, sync: bool | None, as_instance: str | None, as_json: bool
) -> int:
    """Decline TASK, offered to me; it goes back to the queue with the reason."""
    from gitcoord.commands import tasks

    return tasks.decline(
        **step_where(as_instance, as_json, no_commit=no_commit, sync=sync), task_id=task_id, reason=reason
    )


@task.command("claim")
@task_argument
@step_options
def task_claim(*, task_id: str, no_commit: bool, sync: bool | None, as_instance: str | None, as_json: bool) -> int:
    """Take TASK myself: it must be ready (its dependencies completed) and not offered to another."""
    from gitcoord.commands import tasks

    return tasks.claim(**step_where(as_instance, as_json, no_commit=no_commit, sync=sync), task_id=task_id)


@task.command("start")
@task_argument
@step_options
def task_start(*, task_id: str, no_commit: bool, sync: bool | None, as_instance: str | None, as_json: bool) -> int:
    """Start working on TASK, which I hold; its dependencies must be completed."""
    from gitcoord.commands import tasks

    return tasks.start(**step_where(as_instance, as_json, no_commit=no_commit, sync=sync), task_id=task_id)


@task.command("block")
@task_argument
@reason_option
@step_options
def task_block(
    *, task_id: str, reason: str, no_commit: bool, sync: bool | None, as_instance: str | None, as_json: bool
) -> int:
    """Mark TASK, which I hold, as blocked."""
    from gitcoord.commands import tasks

    return tasks.block(
        **step_where(as_instance, as_json, no_commit=no_commit, sync=sync), task_id=task_id, reason=reason
    )


@task.command("complete")
@task_argument
@text_option("note", says="What was done, kept in the task's notes.")
@click.option("--commit", metavar="REV", help="The commit that does it; its deliverables are looked for there.")
@step_options
def task_complete(
    *,
    task_id: str,
    note: str | None,
    commit: str | None,
    no_commit: bool,
    sync: bool | None,
    as_instance: str | None,
    as_json: bool,
) -> int:
    """Mark TASK, which I am working on, as completed (with a note, and the commit that does it)."""
    from gitcoord.commands import tasks

    return tasks.complete(
        **step_where(as_instance, as_json, no_commit=no_commit, sync=sync), task_id=task_id, note=note, commit=commit
    )


@task.command("edit")
@task_argument
@click.option("--title", type=TITLE, help="A new title.")
@text_option("description", says="A new description.")
@click.option("--priority", type=click.Choice(rulebook.PRIORITIES))
@click.option("--due", metavar="WHEN", help="A new due time: +3d, 2024-01-16T18:00 (local) or ...T18:00:00Z.")
@click.option("--no-due", is_flag=True, help="No due time.")
@click.option("--depends", multiple=True, metavar="TASK", help="Add a dependency (repeat for more).")
@click.option("--no-depends", multiple=True, metavar="TASK", help="Drop a dependency (repeat for more).")
@click.option("--expertise", multiple=True, metavar="AREA", help="Add a needed expertise (repeat for more).")
@click.option("--no-expertise", multiple=True, metavar="AREA", help="Drop a needed expertise.")
@click.option("--deliverable", multiple=True, metavar="PATH", help="Add a deliverable (repeat for more).")
@click.option("--no-deliverable", multiple=True, metavar="PATH", help="Drop a deliverable.")
@click.option("--suggest", metavar="INSTANCE", help="Who should do it.")
@click.option("--no-suggest", is_flag=True, help="Suggest nobody.")
@step_options
def task_edit(
    *,
    task_id: str,
    title: str | None,
    description: str | None,
    priority: str | None,
    due: str | None,
    no_due: bool,
    depends: tuple[str, ...],
    no_depends: tuple[str, ...],
    expertise: tuple[str, ...],
    no_expertise: tuple[str, ...],
    deliverable: tuple[str, ...],
    no_deliverable: tuple[str, ...],
    suggest: str | None,
    no_suggest: bool,
    no_commit: bool,
    sync: bool | None,
    as_instance: str | None,
    as_json: bool,
) -> int:
    """Change TASK's details while it is open (its creator or the human coordinator; its holder
    adds notes instead)."""
    from gitcoord.commands import tasks

    fields = {
        "title": _either(title, False, "title"),
        "description": _either(description, False, "description"),
        "priority": _either(priority, False, "priority"),
        "due": _either(due, no_due, "due"),
        "suggested_assignee": _either(suggest, no_suggest, "suggest"),
    }
    return tasks.edit(
        **step_where(as_instance, as_json, no_commit=no_commit, sync=sync),
        task_id=task_id,
        fields={k: v for k, v in fields.items() if v is not _UNCHANGED},
        add={"dependencies": depends, "required_expertise": expertise, "deliverables": deliverable},
        drop={"dependencies": no_depends, "required_expertise": no_expertise, "deliverables": no_deliverable},
    )


_UNCHANGED = "\0unchanged"  # what no option can give: the field is left as it is


def _either(value: str | None, clear: bool, name: str) -> str | None:
    """--NAME VALUE sets it, --no-NAME (where there is one) clears it to None, neither leaves it."""
    if value is not None and clear:
        raise click.UsageError(f"--{name} and --no-{name} contradict each other: give one")
    if clear:
        return None
    return _UNCHANGED if value is None else value


@task.command("release")
@task_argument
@reason_option
@step_options
def task_release(
    *, task_id: str, reason: str, no_commit: bool, sync: bool | None, as_instance: str | None, as_json: bool
) -> int:
    """Give TASK, which I hold, back to the queue."""
    from gitcoord.commands import tasks

    return tasks.release(
        **step_where(as_instance, as_json, no_commit=no_commit, sync=sync), task_id=task_id, reason=reason
    )


@task.command("cancel")
@task_argument
@reason_option
@step_options
def task_cancel(
    *, task_id: str, reason: str, no_commit: bool, sync: bool | None, as_instance: str | None, as_json: bool
) -> int:
    """Cancel TASK (its creator or the human coordinator)."""
    from gitcoord.commands import tasks

    return tasks.cancel(
        **step_where(as_instance, as_json, no_commit=no_commit, sync=sync), task_id=task_id, reason=reason
    )


@task.command("ready")
@click.option(
    "--mine",
    is_flag=True,
    help="For me: my tasks that can start, those offered to me, and unassigned ones that fit me "
    "(suggested for me, or needing my expertise).",
)
@reading_options
def task_ready(*, mine: bool, as_instance: str | None, as_json: bool) -> int:
    """Tasks that can be taken or started now: every dependency completed, and unassigned (or, with --mine, mine)."""
    from gitcoord.commands import reads

    return reads.ready(**where(as_instance, as_json), mine=mine)


@task.command("list")
@click.option("--status", "statuses", multiple=True, type=click.Choice(rulebook.TASK_STATUSES))
@click.option("--assigned-to", "holder", metavar="INSTANCE", help="Only tasks assigned or offered to INSTANCE.")
@click.option("--mine", is_flag=True, help="Only tasks assigned or offered to me.")
@reading_options
def task_list(
    *, statuses: tuple[str, ...], holder: str | None, mine: bool, as_instance: str | None, as_json: bool
) -> int:
    """List tasks, most urgent first."""
    from gitcoord.commands import reads

    return reads.tasks(**where(as_instance, as_json), statuses=statuses, holder=holder, mine=mine)


@task.command("show")
@task_argument
@reading_options
def task_show(*, task_id: str, as_instance: str | None, as_json: bool) -> int:
    """One task, with the status of its dependencies and what depends on it."""
    from gitcoord.commands import reads

    return reads.task(**where(as_instance, as_json), task_id=task_id)
