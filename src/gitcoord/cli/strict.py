"""Commands that refuse an option given twice.

click keeps the last value of an option that takes one and drops the others without a word:
`coord msg send --task A --task B` would record B alone. Every option here takes one value
or is repeated on purpose (`multiple=True`); so a second value of a one-value option is a
usage error, and nothing an agent said is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence

import click


def refuse_repeats(ctx: click.Context, command: click.Command, args: Sequence[str], *, group: bool) -> None:
    """A usage error if `args` give a one-value option (or one of a set of flags with one name) twice.

    Reads the words as click will: an option that takes a value takes the next word, whatever
    it looks like; a group's own options end at its subcommand's name.
    """
    table = _one_value_options(command)
    seen: dict[str, str] = {}
    rest = list(args)
    while rest:
        word = rest.pop(0)
        if word == "--":
            return
        if not word.startswith("-") or word == "-":
            if group:
                return
            continue
        found = _option(table, word)
        if found is None:
            continue  # --help, or an unknown option: click says so
        option, attached = found
        if not attached and not option.is_flag and rest:
            rest.pop(0)
        name, spelled = option.name or word, word.partition("=")[0]
        if name in seen:
            raise click.UsageError(_twice(seen[name], spelled), ctx=ctx)
        seen[name] = spelled


def _twice(first: str, then: str) -> str:
    if first == then:
        return f"{then} is given twice, and it takes one value: give it once"
    return f"{first} and {then} set the same thing: give one of them"


def _one_value_options(command: click.Command) -> dict[str, click.Option]:
    return {
        opt: p
        for p in command.params
        if isinstance(p, click.Option) and not p.multiple and not p.count
        for opt in (*p.opts, *p.secondary_opts)
    }


def _option(table: dict[str, click.Option], word: str) -> tuple[click.Option, bool] | None:
    """The option `word` names, and whether its value is in the word itself (--due=+2h, -n5)."""
    name, equals, _ = word.partition("=")
    if name in table:
        return table[name], bool(equals)
    if not word.startswith("--") and word[:2] in table:
        return table[word[:2]], True
    return None


def prints_json(command: click.Command) -> bool:
    """Whether the command can answer in JSON (its own --json, or --format json)."""
    return any(isinstance(p, click.Option) and {"--json", "--format"} & {*p.opts} for p in command.params)


class Command(click.Command):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        refuse_repeats(ctx, self, args, group=False)
        if ctx.find_root().params.get("as_json") and not prints_json(self):
            # else the flag would turn the command's text into an empty envelope
            raise click.UsageError(f"{ctx.command_path} prints no JSON: leave out --json", ctx=ctx)
        return super().parse_args(ctx, args)


class Group(click.Group):
    command_class = Command
    group_class = type  # a subgroup is a Group too

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        refuse_repeats(ctx, self, args, group=True)
        return super().parse_args(ctx, args)
