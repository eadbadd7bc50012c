"""The land-cover legend: the one reader every stage uses (validation, counting, tables, maps).

A legend is a CSV ``code,name_zh,name_en`` with an optional ``colour`` column (``#RRGGBB``), or the
name of a land-cover product whose legend ships with swc-raster (:data:`PRODUCT_LEGENDS`, the CSVs in
``swc_raster/legends/``; sources: docs/decisions/0007-landcover-legends.md).
Codes are whole numbers from 1 to 65535: 0 is reserved for "no data" in the aligned
land-cover rasters (:data:`LANDCOVER_NODATA`), and the rasters are unsigned integers.
Every problem of the file is collected and raised together (:class:`~swc_raster.errors.ValidationFailed`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from swc_raster.errors import InputError, InputFileError, Problem, ValidationFailed

#: The value of "no land-cover data" in every aligned land-cover raster of the workflow.
LANDCOVER_NODATA: Final = 0
#: The largest land-cover code a legend may hold (the rasters are uint8 or uint16).
MAX_CODE: Final = 65535
REQUIRED_COLUMNS: Final = ("code", "name_zh", "name_en")
_HEX: Final = re.compile(r"^#[0-9A-Fa-f]{6}$")

#: Land-cover products whose legends ship with swc-raster, by the name a config may give instead of a CSV path.
PRODUCT_LEGENDS: Final = {
    "gbt21010": "GB/T 21010-2017 land-use classification, the 12 first-level classes (codes 1–12 = 01–12)",
    "gbt21010_8": "the 8 bulletin classes adapted from GB/T 21010 (建设用地 = 05–09), as the demo legend",
    "clcd": "CLCD, China Land Cover Dataset 30 m (Yang & Huang 2021), codes 1–9",
    "globeland30": "GlobeLand30 (Chen et al. 2015), codes 10–100",
    "esa_worldcover": "ESA WorldCover 10 m v100/v200 (Zanaga et al. 2021, 2022), codes 10–100",
    "modis_igbp": "MODIS MCD12Q1 LC_Type1 / MCD12C1 Majority_Land_Cover_Type_1, IGBP classes 1–17",
}
#: The package folder holding the product legends (``<name>.csv``).
LEGENDS_PACKAGE_DIR: Final = "legends"


@dataclass(frozen=True)
class LegendClass:
    """One land-cover class: its raster code, Chinese and English names, optional colour."""

    code: int
    name_zh: str
    name_en: str
    colour: str | None = None

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


@dataclass(frozen=True)
class Legend:
    """The classes of a land-cover legend, in file order."""

    classes: tuple[LegendClass, ...]
    source: str = "landcover_legend"

    @property
    def codes(self) -> list[int]:
        return [c.code for c in self.classes]

    def names(self, lang: str) -> dict[int, str]:
        return {c.code: c.name(lang) for c in self.classes}

    def to_frame(self) -> pd.DataFrame:
        """``code, name_zh, name_en, colour`` (colour None where the file has none)."""
        return pd.DataFrame(
            {
                "code": [c.code for c in self.classes],
                "name_zh": [c.name_zh for c in self.classes],
                "name_en": [c.name_en for c in self.classes],
                "colour": [c.colour for c in self.classes],
            }
        )


def legend_problems(table: pd.DataFrame, label: str) -> list[Problem]:
    """Every problem of a legend table (row by row); empty when it is good."""
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        return [
            Problem(
                label,
                f"the legend lacks column(s) {', '.join(missing)}; it has {list(table.columns)}.",
                "use the header code,name_zh,name_en (see config/landcover_legend.csv).",
            )
        ]
    problems: list[Problem] = []
    if table.empty:
        problems.append(Problem(label, "the legend has no rows.", "list every land-cover code of the rasters."))
    seen: dict[int, int] = {}
    for line, row in zip(range(2, len(table) + 2), table.itertuples(index=False)):
        code = _as_code(row.code)
        if code is None:
            problems.append(
                Problem(
                    label,
                    f"line {line}: code {row.code!r} is not a whole number from 1 to {MAX_CODE}.",
                    "write each code as a whole number ≥ 1 (0 means no data in the land-cover rasters).",
                )
            )
            continue
        if code in seen:
            problems.append(
                Problem(
                    label,
                    f"line {line}: duplicate land-cover code {code} (first on line {seen[code]}).",
                    "keep one row per code.",
                )
            )
        seen.setdefault(code, line)
        for column in ("name_zh", "name_en"):
            if not str(getattr(row, column) or "").strip():
                problems.append(
                    Problem(label, f"line {line}: code {code} has no {column}.", f"give every class a {column}.")
                )
        colour = getattr(row, "colour", None) if "colour" in table.columns else None
        if isinstance(colour, str) and colour.strip() and not _HEX.match(colour.strip()):
            problems.append(
                Problem(label, f"line {line}: colour {colour!r} is not #RRGGBB.", "write colours as hex, e.g. #F5DE6A.")
            )
    return problems


def read_legend_table(path: str | os.PathLike[str], label: str) -> pd.DataFrame:
    """The legend CSV as text columns (UTF-8, with or without BOM), unchecked.

    Raises :class:`~swc_raster.errors.InputFileError` when the file is missing or unreadable and
    :class:`~swc_raster.errors.InputError` when it is not UTF-8 text (Excel's GBK "CSV").
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(label, "the file does not exist.", "check `landcover_legend:` in the config.")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skipinitialspace=True)
    except UnicodeDecodeError as exc:
        raise InputError(
            label,
            "the file is not UTF-8 text (Excel often saves CSV as GBK).",
            f'save it as "CSV UTF-8" in Excel, or convert it: `iconv -f GBK -t UTF-8 {path.name} > fixed.csv`.',
        ) from exc
    except pd.errors.EmptyDataError:
        return pd.DataFrame(columns=list(REQUIRED_COLUMNS))
    except (OSError, pd.errors.ParserError) as exc:
        raise InputFileError(
            label, f"the file cannot be read as CSV ({exc}).", "export it again as UTF-8 CSV."
        ) from exc


def is_product_legend(value: object) -> bool:
    """Whether a config value names a land-cover product whose legend ships with swc-raster.

    Names are case-insensitive (``CLCD`` = ``clcd``); anything else is read as a CSV path.
    """
    return isinstance(value, str) and value.strip().lower() in PRODUCT_LEGENDS


def legend_path(path_or_name: str | os.PathLike[str]) -> Path:
    """The CSV behind a legend setting: the shipped file of a product name, else the path as given.

    A value that is neither a product name nor an existing file but looks like a name (no folder,
    no suffix) is refused with the list of names, so a misspelt product does not read as a missing file.
    """
    if is_product_legend(path_or_name):
        name = str(path_or_name).strip().lower()
        return Path(str(resources.files("swc_raster").joinpath(LEGENDS_PACKAGE_DIR, f"{name}.csv")))
    path = Path(path_or_name)
    if isinstance(path_or_name, str) and not path.exists() and not path.suffix and len(path.parts) == 1:
        raise InputError(
            f"landcover_legend ({path_or_name})",
            f"{str(path_or_name)!r} is neither a land-cover product swc-raster knows nor an existing file.",
            f"give one of {', '.join(PRODUCT_LEGENDS)} or the path of a CSV code,name_zh,name_en.",
        )
    return path


def read_legend(path_or_name: str | os.PathLike[str], label: str | None = None) -> Legend:
    """Read and check a legend: a CSV path (UTF-8, with or without BOM) or a product name (:data:`PRODUCT_LEGENDS`).

    Raises with every problem found.
    """
    path = legend_path(path_or_name)
    if label is None:
        shown = str(path_or_name).strip().lower() if is_product_legend(path_or_name) else str(path)
        label = f"landcover_legend ({shown})"
    table = read_legend_table(path, label)
    table.columns = [str(c).strip() for c in table.columns]
    problems = legend_problems(table, label)
    if problems:
        raise ValidationFailed(problems)
    has_colour = "colour" in table.columns
    return Legend(
        tuple(
            LegendClass(
                int(_as_code(r["code"])),  # type: ignore[arg-type]  # checked by legend_problems
                str(r["name_zh"]).strip(),
                str(r["name_en"]).strip(),
                (str(r["colour"]).strip() or None) if has_colour else None,
            )
            for _, r in table.iterrows()
        ),
        source=label,
    )


def _as_code(value: object) -> int | None:
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    if not number.is_integer() or not 1 <= number <= MAX_CODE:
        return None
    return int(number)


# --------------------------------------------------------------------------- land-cover rasters


def landcover_dtype_problem(dtype: object, label: str, path: str | os.PathLike[str] | None = None) -> Problem | None:
    """Why a land-cover raster of data type ``dtype`` cannot be used, or ``None`` when it can.

    The one data-type rule of land-cover rasters (validation, alignment and the CSLE branch use it):
    class codes are whole numbers, so the raster must be of an integer type. A floating-point
    raster is refused, not rounded: its values may not be codes at all (an erosion raster given as
    land cover), and a NaN or 3.7 has no class. Codes themselves must lie in 0–:data:`MAX_CODE`
    (checked on the values, against the legend).
    """
    dt = np.dtype(dtype)  # type: ignore[call-overload]
    if dt.kind in "ui":
        return None
    name = Path(path).name if path else "landcover.tif"
    stem = Path(name).stem
    return Problem(
        label,
        f"the raster has data type {dt.name}; land-cover class codes must be whole numbers in an integer raster "
        "(a floating-point raster does not look like a land-cover class raster: were `landcover` and `erosion` "
        "swapped?).",
        f"if its values are class codes, convert it (after checking they are whole numbers 0–{MAX_CODE}): "
        f"`gdal_translate -ot UInt16 {name} {stem}_uint16.tif` (UInt8 when every code ≤ 255), and point "
        "`landcover:` at the new file; if it holds erosion moduli, swap `landcover:` and `erosion:`.",
    )


def check_landcover_dtype(dtype: object, label: str, path: str | os.PathLike[str] | None = None) -> None:
    """Raise :class:`~swc_raster.errors.InputError` when :func:`landcover_dtype_problem` finds a problem."""
    problem = landcover_dtype_problem(dtype, label, path)
    if problem is not None:
        raise InputError(problem.input, problem.problem, problem.fix)


def aligned_landcover_dtype(dtype: object) -> str:
    """Data type of a land-cover raster once aligned: ``uint8`` for 8-bit sources, else ``uint16``.

    Valid only for rasters that pass :func:`landcover_dtype_problem` and whose codes lie in
    0–:data:`MAX_CODE` (the validation checks the values).
    """
    return "uint8" if np.dtype(dtype).itemsize == 1 else "uint16"  # type: ignore[call-overload]
