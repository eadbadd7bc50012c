"""Full input validation: find *every* problem with the inputs before computing.

Two stages (see ``docs/architecture.md``):

* :func:`check_header` — cheap checks that only open file headers and read small
  tables; run when the workflow is parsed.  Files that a workflow rule will
  create are listed in ``generated`` and skipped.
* :func:`check_data` — checks that read raster values (tile by tile, bounded
  memory) and boundary geometries, for one year.

:func:`validate` runs both and raises :class:`~swc_raster.errors.ValidationFailed`
listing all problems together (:class:`~swc_raster.errors.InputFilesFailed`, which is
also an ``OSError``, when every problem is a missing/unreadable file); otherwise it
returns the warnings (e.g. "invalid geometry, will be repaired").

Each problem says which input (config key and file), what is wrong and how to
fix it, in words a monitoring engineer can act on.

The functions take a plain mapping in the config's layout; every key is optional, with the
schema's defaults: ``analysis.crs`` (the equal-area CRS used for areas),
``validation.min_coverage_pct`` (99), ``validation.unit_check`` (``error``) and
``validation.overlap_tolerance_pct`` (0.1). :func:`check_data` reads only the year's entry,
``boundaries``, ``analysis.crs``, ``validation`` and ``landcover_legend`` (or the legend's codes as
``landcover_legend_codes``, as the workflow's rules pass them).

Modules, one concern each: :mod:`.context` (config access, problems, years, files),
:mod:`.tiles` (opening a raster, the one tile reader), :mod:`.erosion`, :mod:`.landcover`,
:mod:`.boundaries`, :mod:`.coverage`, :mod:`.tables` (legend, targets), :mod:`.csle`,
:mod:`.header` and :mod:`.data` (the two stages).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from swc_raster.cellarea import pixel_area_km2
from swc_raster.errors import FileProblem, InputFilesFailed, InputWarning, Problem, ValidationFailed
from swc_raster.validate.boundaries import boundaries_data
from swc_raster.validate.context import (
    DEFAULT_EQUAL_AREA_CRS,
    DEFAULT_MIN_COVERAGE_PCT,
    DEFAULT_OVERLAP_TOLERANCE_PCT,
    Context,
    dedupe,
    find_year,
    years,
)
from swc_raster.validate.data import year_data
from swc_raster.validate.header import header_checks, year_header

__all__ = [
    "DEFAULT_EQUAL_AREA_CRS",
    "DEFAULT_MIN_COVERAGE_PCT",
    "DEFAULT_OVERLAP_TOLERANCE_PCT",
    "check_data",
    "check_header",
    "check_year",
    "pixel_area_km2",
    "validate",
]


def check_header(
    cfg: Mapping[str, Any],
    base_dir: str | os.PathLike[str],
    generated: Iterable[str | os.PathLike[str]] | None = None,
) -> list[Problem]:
    """Cheap checks (file headers and small tables only) of every configured input.

    Checks that every configured file exists and opens (boundaries, targets,
    legend, each year's land cover and erosion); raster and vector CRS present;
    rasters georeferenced and single-band (else the problem says how to extract one);
    land cover of an integer data type; erosion unit declared and known; year labels
    unique and each year has both rasters; boundary county codes six-digit GB/T 2260
    codes and unique; the legend as :func:`swc_raster.legend.read_legend` accepts it;
    the targets table's counties match the boundaries' (codes as strings, names compared
    after normalising whitespace) and it has the region row.  A year with a ``csle:`` block
    (the CSLE branch computes its erosion) instead gets its block checked: DEM on a projected
    metric grid, units of the DEM, R, K and cover declared and SI, constants plausible, one
    vegetation input, factor rasters open, the factor table readable with a row for every
    legend code.

    ``generated`` lists paths (as in the config, or absolute) that a workflow rule
    will create: their existence and header checks are skipped.
    Returns the problems found (empty list: all good).
    """
    ctx = Context(cfg, base_dir, generated)
    header_checks(ctx, None)
    return dedupe(ctx.problems)


def check_data(cfg: Mapping[str, Any], base_dir: str | os.PathLike[str], year: Any) -> list[Problem]:
    """Checks that read data, for one year (windowed reads, bounded memory).

    Boundaries: geometries valid (invalid ones are reported as repaired — an
    :class:`~swc_raster.errors.InputWarning`), no overlaps between counties beyond
    ``validation.overlap_tolerance_pct`` of the smaller county.  Each of the year's
    rasters: opens and every block over the region reads (corrupt / truncated
    files), right band count, covers each county (≥ ``validation.min_coverage_pct``
    of its area inside the raster footprint, :mod:`swc_raster.footprint`) and is not
    disjoint from the boundaries, not empty / all-nodata over the region.  Erosion: values
    finite and non-negative, nodata declared (undeclared fill values such as -9999 or
    3.4e38 are detected), unit plausible for the whole distribution of values
    (:func:`swc_raster.units.unit_doubt`; ``validation.unit_check`` ``error`` → problem,
    ``warn`` → warning).  Land cover: an integer raster, every code in the legend, and the
    legend itself as the computing stages will read it. CSLE factor rasters: cover each
    county, have data, and values plausible for their declared unit (K not in US units,
    cover fraction vs percent, NDVI −1…1, DEM in metres).

    Warnings are issued with :func:`warnings.warn` (category ``InputWarning``);
    :func:`validate` returns them instead.
    """
    ctx = Context(cfg, base_dir)
    counties = boundaries_data(ctx)
    year_data(ctx, year, counties)
    for w in dedupe(ctx.warnings):
        warnings.warn(w, InputWarning, stacklevel=2)
    return dedupe(ctx.problems)


def validate(
    cfg: Mapping[str, Any],
    base_dir: str | os.PathLike[str],
    years: Iterable[Any] | None = None,
) -> list[str]:
    """Run :func:`check_header` and :func:`check_data` (for ``years``, default all).

    Raises :class:`~swc_raster.errors.ValidationFailed` listing every problem
    (:class:`~swc_raster.errors.InputFilesFailed`, also an ``OSError``, when all
    of them are missing or unreadable files).  Returns the warnings (strings).
    Header checks of per-year files are limited to the selected years, so a
    year's inputs can be validated before other years' inputs exist.
    """
    ctx = Context(cfg, base_dir)
    selected = None if years is None else [str(y) for y in years]
    header_checks(ctx, selected)
    file_inputs = {p.input for p in ctx.problems if isinstance(p, FileProblem)}

    dctx = Context(cfg, base_dir)
    counties = boundaries_data(dctx)
    for label in selected if selected is not None else [y.label for y in _configured_years(dctx)]:
        year_data(dctx, label, counties)
    data_problems = [p for p in dctx.problems if not (isinstance(p, FileProblem) and p.input in file_inputs)]

    problems = dedupe(ctx.problems + data_problems)
    if problems:
        if all(isinstance(p, FileProblem) for p in problems):
            raise InputFilesFailed(problems)
        raise ValidationFailed(problems)
    return dedupe(ctx.warnings + dctx.warnings)


def check_year(
    cfg: Mapping[str, Any], base_dir: str | os.PathLike[str], year: Any, workers: int = 1, values: bool = True
) -> list[str]:
    """Every check of one year's inputs alone: its header checks, then its data against the boundaries.

    ``values`` False leaves out the checks of the rasters' pixel values (the workflow makes them on
    the cells it counts, in its counting pass: :mod:`swc_raster.value_checks`).
    Needs only the year's entry, ``boundaries``, ``landcover_legend`` and optionally ``analysis``
    and ``validation`` (no region or targets): what a workflow rule of that year declares.
    Raises :class:`~swc_raster.errors.ValidationFailed` (or
    :class:`~swc_raster.errors.InputFilesFailed`) listing every problem; returns the warnings.
    """
    ctx = Context(cfg, base_dir)
    entry = find_year(ctx, year)
    if entry is not None:
        year_header(ctx, entry)
    file_inputs = {p.input for p in ctx.problems if isinstance(p, FileProblem)}
    dctx = Context(cfg, base_dir)
    counties = boundaries_data(dctx)
    if entry is not None:
        year_data(dctx, year, counties, workers, values)
    data_problems = [p for p in dctx.problems if not (isinstance(p, FileProblem) and p.input in file_inputs)]
    problems = dedupe(ctx.problems + data_problems)
    if problems:
        raise (InputFilesFailed if all(isinstance(p, FileProblem) for p in problems) else ValidationFailed)(problems)
    return dedupe(ctx.warnings + dctx.warnings)


def _configured_years(ctx: Context) -> list[Any]:
    return years(ctx, report=False)
