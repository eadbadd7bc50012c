"""One error hierarchy for swc-raster.

Every error a user can meet derives from :class:`SwcError`, and also from the
matching built-in (``ValueError``, ``OSError``) so that generic handlers keep
working.  Messages always say *which input*, *what is wrong* and *how to fix it*.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input: what a user needs to fix it."""

    input: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"[{self.input}] {self.problem} Fix: {self.fix}"


class SwcError(Exception):
    """Root of every swc-raster error."""


def _message(problems: list[Problem], header: str | None) -> str:
    lines = [header] if header else []
    lines += [f"  - {p}" if header else str(p) for p in problems]
    return "\n".join(lines)


class InputError(SwcError, ValueError):
    """An input (raster, vector, table, config value) cannot be used as given."""

    def __init__(self, input: str, problem: str, fix: str) -> None:
        self.problems = [Problem(input, problem, fix)]
        super().__init__(_message(self.problems, None))


class InputFileError(InputError, OSError):
    """An input file is missing, unreadable or corrupt."""


class UnitError(InputError):
    """An erosion raster's unit is undeclared, unknown or implausible."""


class CrsError(InputError):
    """A raster or vector has no CRS, or one that cannot be used."""


class CoverageError(InputError):
    """The rasters do not cover enough of a county."""


class ConfigError(InputError):
    """The configuration is inconsistent (years, paths, keys)."""


class ValidationFailed(SwcError, ValueError):
    """Several problems found before computing; all are listed together."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        n = len(self.problems)
        header = f"{n} problem{'s' if n != 1 else ''} found in the inputs; nothing was computed:"
        super().__init__(_message(self.problems, header))


# --- additions for input validation (swc_raster.validate) -------------------


@dataclass(frozen=True)
class FileProblem(Problem):
    """A :class:`Problem` with the file itself: missing, empty, unreadable, corrupt
    or truncated (the ``OSError`` kind of problem)."""


class InputFilesFailed(ValidationFailed, OSError):
    """Validation failed only because input files are missing or unreadable.

    Raised instead of plain :class:`ValidationFailed` when *every* problem is a
    :class:`FileProblem`, so that ``except OSError`` handlers see it too; it is
    still a :class:`ValidationFailed` (and a ``ValueError``).
    """


class InputWarning(UserWarning):
    """Something in the inputs is suspicious or was repaired, but computing can go on."""
