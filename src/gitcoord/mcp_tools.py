"""The tools `coord mcp` offers: each one a `coord` command, with that command's own parameters.

A tool's input schema is read off the click command: its parameters' names, types, help
texts, choices (the rulebook's, through click) and defaults, so that nothing is said twice.
Left out is what only a shell can use, or what would change who acts: --as and --json (the
server acts as this clone's instance, and always reads JSON), --no-commit (a staged change
needs a person to commit it), --sync (the clone's setting decides) and the -file options
(they read a file or standard input, which is the server's transport).

A call becomes an argument vector that cannot smuggle an option in: long options are given
as `--name=value`, and the positional arguments come after `--`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from typing import NamedTuple

import click

# The commands offered, in the order a client lists them: the agent's loop first.
COMMANDS: tuple[tuple[str, ...], ...] = (
    ("checkin",),
    ("next",),
    ("news",),
    ("wait",),
    ("inbox",),
    ("defer",),
    ("task", "add"),
    ("task", "assign"),
    ("task", "accept"),
    ("task", "decline"),
    ("task", "claim"),
    ("task", "start"),
    ("task", "block"),
    ("task", "complete"),
    ("task", "release"),
    ("task", "cancel"),
    ("task", "edit"),
    ("task", "ready"),
    ("task", "list"),
    ("task", "show"),
    ("msg", "send"),
    ("msg", "reply"),
    ("msg", "ack"),
    ("msg", "list"),
    ("msg", "show"),
    ("decision", "propose"),
    ("decision", "input"),
    ("decision", "decide"),
    ("decision", "note"),
    ("decision", "list"),
    ("decision", "show"),
    ("escalate",),
    ("status",),
    ("health",),
    ("log",),
    ("sync",),
    ("whoami",),
    ("checkout",),
)

LEFT_OUT = frozenset({"as_instance", "as_json", "no_commit", "sync"})
LEFT_OUT_OF: dict[tuple[str, ...], frozenset[str]] = {
    ("health",): frozenset({"output_format", "issue"}),  # JSON always; the GitHub issue is CI's job
    ("sync",): frozenset({"accept_rewind"}),  # taking a rewound branch is the human coordinator's repair
}

# `coord wait` blocks the call: bounded here, and by default shorter than the 60 s many clients allow a call.
WAIT_LONGEST = 600
BOUNDS: dict[tuple[str, ...], dict[str, dict[str, Any]]] = {
    ("wait",): {"timeout": {"maximum": WAIT_LONGEST, "default": 50}},
}

# Arguments have no help text in click, nor have a few options: what their metavars stand for.
_UNDESCRIBED = {
    "TASK": "A task id, e.g. task_001.",
    "MSG": "A message id, e.g. msg_001.",
    "DEC": "A decision id, e.g. dec_001.",
    "ID": "A task, message or decision id.",
    "TASK|MSG|DEC": "A task, message or decision id.",
    "INSTANCE": "An instance's name.",
    "TITLE": "What it is, in a line.",
    "SUBJECT": "What it is about, in a line.",
    "DESCRIPTION": "What it is about, at length.",
    "PRIORITY": "How urgent it is.",
    "STATUSES": "Only those in these statuses.",
}


class Tool(NamedTuple):
    name: str
    path: tuple[str, ...]  # the command: ("task", "claim") is `coord task claim`
    command: click.Command
    params: tuple[click.Parameter, ...]  # those the tool takes

    @property
    def description(self) -> str:
        return f"`coord {' '.join(self.path)}`: {_help(self.command)}"

    @property
    def commits(self) -> bool:
        """Whether the command can commit (and share): `sync` itself, and those that take --sync."""
        return self.path == ("sync",) or any(p.name == "sync" for p in self.command.params)


def tool_name(path: tuple[str, ...]) -> str:
    return "_".join(path).replace("-", "_")


def find_command(root: click.Group, path: tuple[str, ...]) -> click.Command | None:
    command: click.Command | None = root
    for word in path:
        command = command.commands.get(word) if isinstance(command, click.Group) else None
    return command


def tools(root: click.Group) -> dict[str, Tool]:
    """Every tool whose command `root` has."""
    found = {}
    for path in COMMANDS:
        command = find_command(root, path)
        if command is not None:
            left_out = LEFT_OUT | LEFT_OUT_OF.get(path, frozenset())
            params = tuple(p for p in command.params if p.name and p.name not in left_out and not _reads_file(p))
            found[tool_name(path)] = Tool(tool_name(path), path, command, params)
    return found


def _reads_file(param: click.Parameter) -> bool:
    return bool(param.name and param.name.endswith("_file"))


def _help(command: click.Command) -> str:
    return " ".join((command.help or "").split())


# Schemas ---------------------------------------------------------------------------------


def input_schema(tool: Tool) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required = []
    for name, params in _by_name(tool.params):
        properties[name] = _choice_of_flags(params) if len(params) > 1 else _property(params[0])
        properties[name] |= BOUNDS.get(tool.path, {}).get(name, {})
        if params[0].required:
            required.append(name)
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def _by_name(params: tuple[click.Parameter, ...]) -> Iterator[tuple[str, list[click.Parameter]]]:
    """Parameters by the name a tool gives them: an option's long name (`--assigned-to`: assigned_to),
    else the command's own name (an argument's, a short option's, or that of several flags that
    set one value: `--pending`, `--decided`, `--all` set `which`)."""
    names: dict[str, list[click.Parameter]] = {}
    for p in params:
        assert p.name is not None
        names.setdefault(p.name, []).append(p)
    for name, same in names.items():
        long = _long(same[0]) if len(same) == 1 and isinstance(same[0], click.Option) else ""
        yield (long[2:].replace("-", "_") if long.startswith("--") else name), same


def _property(param: click.Parameter) -> dict[str, Any]:
    if _is_switch(param):
        schema: dict[str, Any] = {"type": "boolean", "default": param.default is True}
    else:
        schema = _value(param.type)
        if param.multiple or param.nargs == -1:
            schema = {"type": "array", "items": schema}
        default = _default(param)
        if default is not None:
            schema["default"] = default
    return {"description": _described(param), **schema}


def _choice_of_flags(params: list[click.Parameter]) -> dict[str, Any]:
    options = [p for p in params if isinstance(p, click.Option)]
    values = [str(p.flag_value) for p in options]
    chosen = [str(p.flag_value) for p in options if p.default is True]
    described = " ".join(f"{v}: {_described(p)}" for v, p in zip(values, options, strict=True))
    return {"description": described, "type": "string", "enum": values, **({"default": chosen[0]} if chosen else {})}


def _is_switch(param: click.Parameter) -> bool:
    return isinstance(param, click.Option) and param.is_flag and param.is_bool_flag


def _value(kind: click.ParamType[Any]) -> dict[str, Any]:
    if isinstance(kind, click.Choice):
        return {"type": "string", "enum": [str(c) for c in kind.choices]}
    if isinstance(kind, (click.FloatRange, click.IntRange)):
        schema: dict[str, Any] = {"type": "integer" if isinstance(kind, click.IntRange) else "number"}
        if kind.min is not None:
            schema["exclusiveMinimum" if kind.min_open else "minimum"] = kind.min
        if kind.max is not None:
            schema["exclusiveMaximum" if kind.max_open else "maximum"] = kind.max
        return schema
    if kind is click.INT:
        return {"type": "integer"}
    if kind is click.FLOAT:
        return {"type": "number"}
    return {"type": "string"}


def _default(param: click.Parameter) -> Any:
    """The default a client may show, when it is a plain value (not click's 'no default', nor empty)."""
    default = param.default
    if isinstance(default, (str, int, float)) and not isinstance(default, bool) and default != "":
        return default
    return None


def _described(param: click.Parameter) -> str:
    if isinstance(param, click.Option) and param.help:
        return " ".join(param.help.split())
    metavar = param.metavar or (param.name or "").upper()
    return _UNDESCRIBED.get(metavar, metavar)


def problems(tool: Tool, arguments: dict[str, Any]) -> list[str]:
    """What is wrong with `arguments` for `tool`, by its schema: each problem with the argument it is about."""
    import jsonschema_rs

    check = jsonschema_rs.validator_for(input_schema(tool))
    found = []
    for e in check.iter_errors(arguments):
        where = ".".join(str(step) for step in e.instance_path)
        found.append(f"{where}: {e.message}" if where else e.message)
    for name, value in arguments.items():  # no command line can carry one, nor git take it
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(t, str) and "\x00" in t for t in texts):
            found.append(f"{name}: contains a NUL character, which no argument may hold")
    return found


# Calls -----------------------------------------------------------------------------------


def argv(tool: Tool, arguments: dict[str, Any]) -> list[str]:
    """The command line that runs `tool` with `arguments` (checked against its schema first), in JSON."""
    given = {**_bounded_defaults(tool), **arguments}
    options: list[str] = []
    positionals: list[str] = []
    for name, params in _by_name(tool.params):
        if name not in given:
            continue
        value = given[name]
        if isinstance(params[0], click.Argument):
            positionals += [str(v) for v in value] if isinstance(value, list) else [str(value)]
        elif len(params) > 1:
            options += [_long(p) for p in params if isinstance(p, click.Option) and str(p.flag_value) == value]
        elif _is_switch(params[0]):
            options += _switch(params[0], bool(value))
        else:
            for v in value if isinstance(value, list) else [value]:
                options += _option(params[0], v)
    return [*tool.path, *options, "--json", "--", *positionals]


def _bounded_defaults(tool: Tool) -> dict[str, Any]:
    """Defaults that differ from the command's own (a shorter wait): given, unless the caller says otherwise."""
    return {name: bound["default"] for name, bound in BOUNDS.get(tool.path, {}).items() if "default" in bound}


def _long(param: click.Parameter) -> str:
    return next((o for o in param.opts if o.startswith("--")), param.opts[0])


def _switch(param: click.Parameter, on: bool) -> list[str]:
    assert isinstance(param, click.Option)
    if on:
        return [_long(param)]
    return [param.secondary_opts[0]] if param.secondary_opts else []


def _option(param: click.Parameter, value: Any) -> list[str]:
    name = _long(param)
    text = _text(value)
    return [f"{name}={text}"] if name.startswith("--") else [name, text]


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
