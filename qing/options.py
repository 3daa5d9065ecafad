"""Options written once: each field of an options dataclass carries its default, its help and its CLI spelling.

    @dataclass
    class CleanOptions:
        merge_window: int = setting(120, "Seconds: a sender's messages this close together form one turn.", min=0)

The CLI (qing.cli.params) turns such fields into typer options - `--merge-window`, read also from
`QING_MERGE_WINDOW` - with that default and help, so neither is written a second time. A closed set of values
is given as `choices` (the tuple the package checks against) and refused by the CLI before any work starts,
with the valid values listed. Fields made with plain `field()` or a bare default are not options: the command
fills them itself.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Cli:
    """How one option is spelled on the command line."""

    help: str
    flag: str | None = None
    """Its flag(s): None: --field-name; for a bool, "--x/--no-x" style on/off flags are made unless `flag` says."""
    env: str | None = ""
    """Its environment variable: "" makes QING_<PREFIX><FIELD> (the prefix set per command), None gives none."""
    short: str | None = None
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] | None = None
    secret: bool = False
    """Never show its value (the default included) in --help."""
    metavar: str | None = None


def setting(default: Any = dataclasses.MISSING, help: str = "", *, default_factory: Any = dataclasses.MISSING,
            **cli: Any) -> Any:
    """A dataclass field that is also a CLI option (see the module docstring)."""
    return dataclasses.field(default=default, default_factory=default_factory, metadata={"cli": Cli(help, **cli)})


def cli_fields(cls) -> list[tuple[dataclasses.Field, Cli]]:
    """The fields of an options dataclass that are CLI options, in their order."""
    return [(f, f.metadata["cli"]) for f in dataclasses.fields(cls) if "cli" in f.metadata]


def default_of(cls, name: str) -> Any:
    """The default of one field (for code that needs it outside the dataclass, e.g. doctor's model)."""
    f = cls.__dataclass_fields__[name]
    return f.default_factory() if f.default is dataclasses.MISSING else f.default
