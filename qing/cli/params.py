"""typer options made from the options dataclasses (qing.options), so each default and help is written once.

`@takes(FinetuneOptions)` on a command adds one option per `setting` field of the dataclass to the command's own
parameters and hands the command a filled-in instance as `opts`. Choices become Enums (case-insensitive,
refused before the command runs, with the valid values listed); the command gets their plain string values.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import inspect
import typing
from typing import Any, Callable

import typer

from qing.options import Cli, cli_fields


def option(name: str, field: dataclasses.Field, cli: Cli, annotation: Any, env_prefix: str,
           panel: str | None = None) -> inspect.Parameter:
    """The typer option of one dataclass field, as a keyword-only parameter; PANEL: the heading --help lists it
    under (None: Options)."""
    default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
    flag = cli.flag or "--" + name.replace("_", "-")
    if annotation is bool and not cli.flag:
        flag = f"{flag}/--no-{flag[2:]}"
    decls = [flag] + ([cli.short] if cli.short else [])
    settings: dict[str, Any] = {"help": cli.help, "show_default": not cli.secret, "rich_help_panel": panel}
    if cli.env is not None:
        settings["envvar"] = cli.env or f"QING_{env_prefix}{name.upper()}"
    if cli.min is not None:
        settings["min"] = cli.min
    if cli.max is not None:
        settings["max"] = cli.max
    if cli.metavar:
        settings["metavar"] = cli.metavar
    if cli.choices:  # an Enum: typer makes it a case-insensitive choice listing the valid values
        annotation = enum.Enum("".join(part.title() for part in name.split("_")), {v: v for v in cli.choices},
                               type=str)
        settings["case_sensitive"] = False
        default = default if default is None else annotation(default)
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=typer.Option(default, *decls, **settings),
                             annotation=annotation)


def takes(cls, *, into: str = "opts", env_prefix: str = "", exclude: tuple[str, ...] = (),
          changes: dict[str, dict] | None = None, panels: dict[str, tuple[str, ...]] | None = None) -> Callable:
    """Decorate a command so it takes every option of CLS (but EXCLUDE) and gets them as one CLS instance INTO.

    env_prefix: the variables are QING_<env_prefix><FIELD> unless a field names its own. changes: per field, Cli
    attributes this command spells differently (its help, its variable), e.g. {"max_new_tokens": {"env": ...}}.
    panels: --help headings of a long command -> the fields listed under each (the others stay under Options).
    """
    panel_of = {name: panel for panel, names in (panels or {}).items() for name in names}
    hints = typing.get_type_hints(cls)
    unknown = set(panel_of) - set(hints)
    assert not unknown, f"panels name fields {cls.__name__} does not have: {unknown}"
    fields = [(f, dataclasses.replace(cli, **(changes or {}).get(f.name, {})))
              for f, cli in cli_fields(cls) if f.name not in exclude]

    def decorate(fn: Callable) -> Callable:
        own_hints = typing.get_type_hints(fn, include_extras=True)
        own = [p.replace(annotation=own_hints.get(p.name, p.annotation))
               for p in inspect.signature(fn).parameters.values() if p.name != into]
        made = [option(f.name, f, cli, hints[f.name], env_prefix, panel_of.get(f.name)) for f, cli in fields]

        @functools.wraps(fn)
        def run(**kwargs):
            values = {f.name: kwargs.pop(f.name) for f, _ in fields}
            values = {k: v.value if isinstance(v, enum.Enum) else v for k, v in values.items()}
            return fn(**kwargs, **{into: cls(**values)})

        del run.__wrapped__  # typer reads the signature below, not the command's own
        params = own + made
        run.__signature__ = inspect.Signature(params)
        run.__annotations__ = {p.name: p.annotation for p in params}
        return run

    return decorate


def choice(name: str, choices: tuple[str, ...], *decls: str, **settings: Any) -> Any:
    """An Annotated type for an option or argument taking one of CHOICES (an Enum typer lists and checks,
    case-insensitively, before the command runs); read the value given with `plain`."""
    kind = enum.Enum(name, {v: v for v in choices}, type=str)
    return typing.Annotated[kind, typer.Option(*decls, case_sensitive=False, **settings)]


def plain(value: Any) -> Any:
    """The string behind a choice's Enum member (anything else as it is)."""
    return value.value if isinstance(value, enum.Enum) else value
