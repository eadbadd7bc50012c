"""What every check shares: the config (a plain mapping, every key optional), the problems and
warnings found so far, the configured years, file existence checks and message formatting."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pyproj

from swc_raster.errors import FileProblem, Problem

#: Equal-area CRS used for areas when the config has no ``analysis.crs`` (the schema's default).
DEFAULT_EQUAL_AREA_CRS: Final = (
    "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs"
)
DEFAULT_MIN_COVERAGE_PCT: Final = 99.0
#: Largest overlap between two counties, in % of the smaller county's area.
DEFAULT_OVERLAP_TOLERANCE_PCT: Final = 0.1
UNIT_CHECK_MODES: Final = ("error", "warn")

GDALINFO_FIX: Final = (
    "check it with `gdalinfo -checksum {path}`; re-download or re-export the file "
    "(a truncated or corrupt GeoTIFF cannot be read)."
)


class Context:
    """Config access (defaults as in the schema) and the problems/warnings found so far."""

    def __init__(
        self,
        cfg: Mapping[str, Any],
        base_dir: str | os.PathLike[str],
        generated: Iterable[str | os.PathLike[str]] | None = None,
    ) -> None:
        self.cfg: Mapping[str, Any] = cfg if isinstance(cfg, Mapping) else {}
        self.base = Path(base_dir)
        self.generated = {self.key(g) for g in (generated or ())}
        self.problems: list[Problem] = []
        self.warnings: list[str] = []

    def path(self, p: str | os.PathLike[str]) -> Path:
        q = Path(p).expanduser()
        return q if q.is_absolute() else self.base / q

    def key(self, p: str | os.PathLike[str]) -> str:
        return os.path.normpath(os.path.abspath(self.path(p)))

    def is_generated(self, p: str | os.PathLike[str]) -> bool:
        return self.key(p) in self.generated

    def add(self, input: str, problem: str, fix: str, kind: type[Problem] = Problem) -> None:
        self.problems.append(kind(input, problem, fix))

    def add_problem(self, p: Problem) -> None:
        self.problems.append(p)

    def unit_problem(self, label: str, msg: str, fix: str) -> None:
        """A value/unit mismatch: a problem, or a warning with ``validation.unit_check: warn``."""
        if self.unit_check() == "warn":
            self.warnings.append(f"[{label}] {msg} (validation.unit_check: warn) Check: {fix}")
        else:
            self.add(label, msg, fix)

    def section(self, name: str) -> Mapping[str, Any]:
        v = self.cfg.get(name)
        return v if isinstance(v, Mapping) else {}

    def equal_area_crs(self) -> pyproj.CRS:
        text = self.section("analysis").get("crs") or DEFAULT_EQUAL_AREA_CRS
        try:
            return pyproj.CRS.from_user_input(text)
        except pyproj.exceptions.CRSError:
            return pyproj.CRS.from_user_input(DEFAULT_EQUAL_AREA_CRS)

    def min_coverage(self) -> float:
        v = self.section("validation").get("min_coverage_pct", DEFAULT_MIN_COVERAGE_PCT)
        return float(v) if is_number(v) else DEFAULT_MIN_COVERAGE_PCT

    def overlap_tolerance(self) -> float:
        v = self.section("validation").get("overlap_tolerance_pct", DEFAULT_OVERLAP_TOLERANCE_PCT)
        return float(v) if is_number(v) else DEFAULT_OVERLAP_TOLERANCE_PCT

    def unit_check(self) -> str:
        v = str(self.section("validation").get("unit_check", "error")).strip().lower()
        return v if v in UNIT_CHECK_MODES else "error"


@dataclass(frozen=True)
class Year:
    """One entry of ``years:`` and its label (``#n`` when the entry has no ``year:``)."""

    index: int
    label: str
    entry: Mapping[str, Any]

    def input(self, key: str, path: Any = None) -> str:
        return f"years[{self.label}].{key}" + (f" ({path})" if path not in (None, "") else "")


def years(ctx: Context, report: bool) -> list[Year]:
    """The configured years; with ``report``, problems of the list itself are added."""
    entries = ctx.cfg.get("years")
    if not isinstance(entries, list) or not entries:
        if report:
            ctx.add(
                "config: years",
                "no years are configured (`years:` is missing or empty).",
                "add a `years:` list with, for each year, `year`, `landcover`, `erosion` and `erosion_unit`.",
            )
        return []
    out = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            if report:
                ctx.add(
                    f"config: years[#{i + 1}]",
                    f"entry #{i + 1} of `years:` is not a mapping ({entry!r}).",
                    "write each year as `- {year: 2023, landcover: …, erosion: …, erosion_unit: t/km2/a}`.",
                )
            continue
        y = entry.get("year")
        label = f"#{i + 1}" if y is None or str(y).strip() == "" else str(y).strip()
        if report and label.startswith("#"):
            ctx.add(
                f"config: years[{label}]",
                f"entry #{i + 1} of `years:` has no `year:` label.",
                "add `year: <label>` (e.g. `year: 2023`) to the entry.",
            )
        out.append(Year(i, label, entry))
    return out


def find_year(ctx: Context, year: Any) -> Year | None:
    """The entry of ``year``; a problem when it is not configured."""
    label = str(year).strip()
    configured = years(ctx, report=False)
    for y in configured:
        if y.label == label:
            return y
    ctx.add(
        f"config: years[{label}]",
        f"year {label} is not in the config (configured: {fmt_list(y.label for y in configured) or 'none'}).",
        f"add a `years:` entry for {label} or validate one of the configured years.",
    )
    return None


def check_file(ctx: Context, label: str, rel: Any) -> Path | None:
    """Existence/size checks shared by every file input; ``None`` when unusable or generated."""
    path = ctx.path(str(rel))
    if ctx.is_generated(str(rel)):
        return None
    if not path.exists():
        ctx.add(
            label,
            f"file not found (looked for {os.path.abspath(path)}).",
            "check the path in the config (relative paths are relative to "
            f"{ctx.base}); create or copy the file there, or if a workflow rule produces it, run that rule first.",
            FileProblem,
        )
        return None
    if path.is_dir():
        if path.suffix.lower() in {".gdb", ".zarr"}:  # directory-based formats
            return path
        ctx.add(label, f"{path} is a directory, not a file.", "point the config at the file itself.", FileProblem)
        return None
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            fh.read(1)
    except OSError as exc:
        ctx.add(
            label,
            f"the file cannot be read ({exc.strerror or exc}).",
            f"check the file's permissions (`ls -l {path}`) and that the disk is mounted.",
            FileProblem,
        )
        return None
    if size == 0:
        ctx.add(
            label,
            "the file is empty (0 bytes) — an interrupted download or copy?",
            "download or export the file again.",
            FileProblem,
        )
        return None
    return path


def dedupe(items: Iterable[Any]) -> list[Any]:
    """Items in order, each once (a Problem and a FileProblem with the same text stay distinct)."""
    seen: set[Any] = set()
    out = []
    for it in items:
        k = (type(it).__name__, it) if isinstance(it, Problem) else it
        if k not in seen:
            seen.add(k)
            out.append(it)
    return out


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def fmt_list(items: Iterable[str], limit: int = 12) -> str:
    items = list(items)
    more = len(items) - limit
    return ", ".join(items[:limit]) + (f" … and {more} more" if more > 0 else "")


def fmt_num(v: float) -> str:
    if v == 0 or (1e-3 <= abs(v) < 1e7):
        return f"{v:.6g}"
    return f"{v:.4g}"


def crs_of(crs_like: Any) -> pyproj.CRS | None:
    if crs_like is None:
        return None
    try:
        wkt = crs_like.to_wkt() if hasattr(crs_like, "to_wkt") else crs_like
        return pyproj.CRS.from_user_input(wkt)
    except (pyproj.exceptions.CRSError, TypeError, ValueError):
        return None


def gdal_msg(exc: BaseException) -> str:
    """The most specific message of a (chained) GDAL / rasterio error."""
    msg = str(exc).strip()
    cause = exc.__cause__ or exc.__context__
    if cause is not None and ("previous exception" in msg or not msg):
        msg = gdal_msg(cause)
    return msg.rstrip(".") or type(exc).__name__
