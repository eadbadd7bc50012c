"""One function per workflow rule, named after it: files and plain values in, files out.

Each rule's script calls exactly one of these with its declared ``input``, ``output`` and
``params`` — never the config — so a stage's result depends only on what its rule
declares, and every stage can be called from a notebook or a test without Snakemake.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
import xarray as xr

from swc_raster import align as align_lib
from swc_raster import boundaries, progress, rates, targets, validate, zonal
from swc_raster import transitions as transition_lib
from swc_raster.atomic import atomic_path
from swc_raster.boundaries import read_prepared, write_prepared
from swc_raster.csv_files import DATA_STATUS_COLUMN, read_csv, write_csv
from swc_raster.errors import CoverageError, InputError
from swc_raster.footprint import raster_footprint
from swc_raster.grading import check_allowable_loss
from swc_raster.grid import AnalysisGrid, require_equal_area
from swc_raster.legend import read_legend

MAP_KINDS = ("rate", "target_gap", "grade", "landcover")
#: Above this share of a county's land, erosion nodata (counted as non-eroded) is worth a warning.
NODATA_WARN_PCT = 5.0


def _read_csv(path: str | Path) -> pd.DataFrame:
    """A table the workflow wrote, without its demo marker column (stages compute on the numbers only)."""
    return read_csv(path).drop(columns=[DATA_STATUS_COLUMN], errors="ignore")


# --------------------------------------------------------------------------- boundaries and grids


def prepare_boundaries(
    boundaries_path: str | Path,
    *,
    layer: str | None,
    code_field: str,
    name_field: str,
    name_en_field: str | None,
    analysis_crs: str,
    out_gpkg: str | Path,
) -> list[str]:
    """All counties → the analysis CRS, repaired, with their polygon areas. Returns repair notes."""
    crs_wkt = require_equal_area(analysis_crs).to_wkt()
    counties, notes = boundaries.prepare(boundaries_path, layer, code_field, name_field, crs_wkt, name_en_field)
    write_prepared(counties, out_gpkg)
    return notes


def prepare_batch(
    counties_gpkg: str | Path,
    *,
    codes: Sequence[str],
    analysis_crs: str,
    resolution_m: float | None,
    analysis_grid: str = "equal_area",
    grid_source: str | Path | None = None,
    out_gpkg: str | Path,
    out_grid: str | Path,
    out_zones: str | Path | None = None,
) -> AnalysisGrid:
    """One batch's counties (zone ids 1..n, in the grid's CRS) and its analysis grid.

    ``analysis_grid`` ``source``: the grid is the lattice of the raster ``grid_source`` (the
    erosion raster) cut to the batch; ``equal_area``: ``analysis_crs`` at ``resolution_m``.
    ``out_zones`` (optional) also writes the zone raster (see :func:`batch_zones`).
    """
    counties = read_prepared(counties_gpkg)
    batch = counties[counties.county_code.isin(set(codes))].reset_index(drop=True)
    missing = sorted(set(codes) - set(batch.county_code))
    if missing:
        raise InputError(
            f"batch counties ({counties_gpkg})",
            f"codes {missing} are not in the prepared boundaries.",
            "rerun prepare_boundaries (the boundaries file changed after planning).",
        )
    batch["zone"] = np.arange(1, len(batch) + 1, dtype="int32")
    grid = _batch_grid(batch, analysis_grid, analysis_crs, resolution_m, grid_source)
    if grid.crs_wkt != batch.crs.to_wkt():
        batch = batch.to_crs(grid.crs_wkt)
    # A county holding no cell centre would be missing from every raster (one county per cell) and its
    # rate would rest on slivers alone; such polygons are boundary errors: stop before any raster work.
    thin = set(zonal.counties_without_cell_centre(batch, grid))
    empty = [f"{c} {n}" for z, c, n in zip(batch.zone, batch.county_code, batch.county_name) if z in thin]
    if empty:
        raise CoverageError(
            f"counties {', '.join(empty)}",
            f"contain no cell centre of the {grid.res:g} (CRS units) analysis grid, so no map or raster could show them.",
            "use a finer analysis.resolution_m (analysis.grid: equal_area), or check that these polygons are not slivers.",
        )
    write_prepared(batch, out_gpkg)
    with atomic_path(out_grid) as tmp:
        grid.to_json(tmp)
    if out_zones is not None:
        zonal.write_zones_raster(batch, grid, out_zones)
    return grid


def _batch_grid(
    batch, analysis_grid: str, analysis_crs: str, resolution_m: float | None, grid_source: str | Path | None
) -> AnalysisGrid:
    if analysis_grid == "equal_area":
        return AnalysisGrid.covering(tuple(batch.total_bounds), analysis_crs, float(resolution_m))
    if analysis_grid != "source" or grid_source is None:
        raise InputError(
            "analysis.grid",
            f"{analysis_grid!r} needs its raster (grid_source={grid_source!r}).",
            "use analysis.grid: source (with an erosion raster) or equal_area.",
        )
    from swc_raster.grid import require_area_lattice

    with align_lib.open_raster(grid_source, "erosion (analysis grid)") as src:
        t, crs_wkt = src.transform, src.crs.to_wkt()
    label = f"erosion raster {grid_source} (analysis.grid: source)"
    require_area_lattice(crs_wkt, label)
    if t.b != 0 or t.d != 0 or abs(abs(t.e) - t.a) > 1e-9 * t.a or t.e >= 0:
        raise InputError(
            label,
            "is rotated or its cells are not square, so it cannot be the counting grid.",
            "set analysis.grid: equal_area in the config (both rasters are then resampled).",
        )
    bounds = tuple(batch.to_crs(crs_wkt).total_bounds)
    return AnalysisGrid.on_lattice(bounds, crs_wkt, t.c, t.f, t.a)


def batch_zones(counties_gpkg: str | Path, grid_json: str | Path, *, out_zones: str | Path) -> None:
    """Each cell's zone id (pixel centre) on the batch's grid, for the grade transition tables."""
    zonal.write_zones_raster(read_prepared(counties_gpkg), AnalysisGrid.from_json(grid_json), out_zones)


# --------------------------------------------------------------------------- one year's inputs


def validate_year(
    year_entry: Mapping[str, Any],
    *,
    boundaries_settings: Mapping[str, Any],
    analysis_crs: str,
    validation_rules: Mapping[str, Any],
    legend_codes: Sequence[int],
    out_json: str | Path,
    workers: int = 1,
) -> list[str]:
    """The checks of one year's rasters that need no pixel values, against the boundaries; writes the warnings.

    Headers, CRS, georeferencing, data type, coverage of every county and the boundaries: the
    rasters' values are checked by the counting pass (:func:`crosstab`, on the cells it reads)
    and judged with these by :func:`gather_crosstab`, so each raster is decoded once.  A year with
    erosion layers (an intensity-grade raster, a wind layer) is the exception: its values are
    checked here, every raster over the region (grade codes against their table, the wind
    modulus's unit; ``validation_rules`` then holds ``unit_check``).
    Raises with every problem found (nothing is written then).  Only the legend's codes
    matter here, so a renamed class does not invalidate a year's checks.
    """
    found = validate.check_year(
        _checks_config(year_entry, boundaries_settings, analysis_crs, validation_rules, legend_codes),
        Path.cwd(),
        int(year_entry["year"]),
        workers,
        values=has_erosion_layers(year_entry),
    )
    with atomic_path(out_json) as tmp_json:
        Path(tmp_json).write_text(
            json.dumps({"year": year_entry["year"], "warnings": found}, ensure_ascii=False, indent=1), encoding="utf-8"
        )
    return found


def has_erosion_layers(year_entry: Mapping[str, Any]) -> bool:
    """A year given with a grade table or a wind layer (its values are checked by :func:`validate_year`)."""
    return any(year_entry.get(k) is not None for k in ("erosion_grades", "wind_erosion"))


def _checks_config(
    year_entry: Mapping[str, Any],
    boundaries_settings: Mapping[str, Any],
    analysis_crs: str,
    validation_rules: Mapping[str, Any],
    legend_codes: Sequence[int],
) -> dict[str, Any]:
    """The input checks' view of one year: only the values the calling rule declares.

    The legend reaches the checks as its codes (already read and checked when the workflow was
    parsed): a renamed class does not invalidate a year's checks.
    """
    return {
        "boundaries": dict(boundaries_settings),
        "analysis": {"crs": analysis_crs},
        "validation": dict(validation_rules),
        "landcover_legend_codes": [int(c) for c in legend_codes],
        "years": [dict(year_entry)],
    }


def align(
    landcover: str | Path,
    *,
    grid_json: str | Path,
    landcover_resampling: str,
    out_landcover: str | Path,
    window_size: int = 2048,
) -> dict[str, str]:
    """The year's land cover on the batch's grid (for the published land-cover raster). Returns the method."""
    grid = AnalysisGrid.from_json(grid_json)
    return {"landcover": align_lib.align_landcover(landcover, grid, out_landcover, landcover_resampling, window_size)}


def _t_by_zone(counties: pd.DataFrame, t_by_county: Mapping[str, float]) -> np.ndarray:
    """Each county's T (t/(km²·a)) indexed by its zone id (index 0 unused); every T checked."""
    t_by_zone = np.zeros(int(counties.zone.max()) + 1)
    for zone, code in zip(counties.zone, counties.county_code):
        if code not in t_by_county:
            raise InputError("allowable_loss", f"no T was given for county {code}.", "rerun: the batch plan changed.")
        check_allowable_loss(float(t_by_county[code]))
        t_by_zone[zone] = float(t_by_county[code])
    return t_by_zone


def _erosion_footprint(
    erosion: str | Path,
    erosion_layers: Sequence[Mapping[str, Any]] | None,
    grid: AnalysisGrid,
    *,
    water_only: bool = False,
):
    """The erosion data's footprint in the grid's CRS: the raster's, or the union of the layers' (water's only
    with ``water_only``); county land outside it is a data gap."""
    paths = [erosion] if not erosion_layers else [
        layer["path"] for layer in erosion_layers if not water_only or layer["process"] == "water"
    ]  # fmt: skip
    covers = []
    for path in paths:
        with align_lib.open_raster(path, "erosion") as src:
            covers.append(raster_footprint(src, grid.crs_wkt))
    covers = [c for c in covers if c is not None]
    return shapely.union_all(covers) if covers else None


def _layers_t_checked(erosion_layers, t_by_zone: np.ndarray) -> list[dict] | None:
    """The layers as plain dicts; every T low enough for the graded and wind stand-ins."""
    if not erosion_layers:
        return None
    from swc_raster.erosion_layers import check_t_for_stand_ins

    check_t_for_stand_ins(t_by_zone[1:])
    return [dict(layer) for layer in erosion_layers]


def grade(
    erosion: str | Path,
    *,
    counties_gpkg: str | Path,
    grid_json: str | Path,
    t_by_county: Mapping[str, float],
    erosion_unit: str = "t/km2/a",
    erosion_resampling: str = "auto",
    erosion_layers: Sequence[Mapping[str, Any]] | None = None,
    out_grade: str | Path,
    window_size: int = 2048,
) -> None:
    """The SL 190 grade raster of one batch and year, with each county's T, read from the erosion raster.

    ``erosion_layers`` (a graded raster, or water and wind): the grade is the declared grade, or the
    more severe of the two processes.
    """
    counties = read_prepared(counties_gpkg)
    grid = AnalysisGrid.from_json(grid_json)
    t_by_zone = _t_by_zone(counties, t_by_county)
    zonal.write_grade_raster(
        erosion,
        erosion,
        counties,
        t_by_zone,
        grid,
        out_grade,
        window_size,
        erosion_unit=erosion_unit,
        erosion_resampling=erosion_resampling,
        erosion_layers=_layers_t_checked(erosion_layers, t_by_zone),
        footprint=_erosion_footprint(erosion, erosion_layers, grid) if erosion_layers else None,
    )


def crosstab(
    landcover: str | Path,
    erosion: str | Path,
    *,
    counties_gpkg: str | Path,
    grid_json: str | Path,
    legend_codes: Sequence[int],
    t_by_county: Mapping[str, float],
    erosion_unit: str = "t/km2/a",
    landcover_resampling: str = "auto",
    erosion_resampling: str = "auto",
    t_sensitivity: Sequence[float] = (),
    erosion_layers: Sequence[Mapping[str, Any]] | None = None,
    out_crosstab: str | Path,
    out_sensitivity: str | Path | None = None,
    mem_mb: float = 1000,
    workers: int | None = None,
    out_value_checks: str | Path | None = None,
) -> None:
    """County × land cover × grade areas of one batch (NetCDF), read from the year's rasters as delivered.

    One pass: each raster is read onto the batch's grid (a plain read on its own lattice,
    otherwise resampled tile by tile in memory), the modulus converted to t/(km²·a) and graded
    with each county's T, every cell weighted by its true area.  The window size follows from
    ``mem_mb`` and ``workers``; county land outside the erosion raster's footprint is grade 7.
    ``t_sensitivity``: alternative T values whose eroded area per county is counted in the same
    pass and written to ``out_sensitivity`` (``county_code, t_km2, eroded_area_km2``, unrounded;
    a header only when there are none).  ``erosion_layers``
    (:meth:`swc_raster.erosion_layers.ErosionLayer.params`: a graded raster, or water and wind
    erosion) replaces ``erosion``/``erosion_unit``: the grade is the declared one, or the more
    severe of the two processes; land outside every layer is the data gap.
    ``out_value_checks``: the same pass checks both rasters' values on the cells it reads whose centre
    lies in a county and writes what it found there (:class:`swc_raster.value_checks.ValueFindings`),
    for :func:`gather_crosstab` to judge.  A year with erosion layers writes empty findings: its
    rasters' values are checked by :func:`validate_year`.
    """
    from swc_raster.value_checks import ValueFindings

    findings = ValueFindings() if out_value_checks is not None and not erosion_layers else None
    window_size = zonal.window_for_memory(mem_mb, workers or 1)
    counties = read_prepared(counties_gpkg)
    grid = AnalysisGrid.from_json(grid_json)
    t_by_zone = _t_by_zone(counties, t_by_county)
    cover = _erosion_footprint(erosion, erosion_layers, grid)
    if any(layer["process"] == "water" and layer.get("grade_codes") for layer in erosion_layers or ()):
        t_sensitivity = ()  # graded water erosion has no modulus to compare with another T
    table, eroded = zonal.crosstab_with_sensitivity(
        landcover,
        erosion,
        counties,
        list(legend_codes),
        grid,
        t_by_zone,
        footprint=cover,
        window_size=window_size,
        workers=workers,
        erosion_unit=erosion_unit,
        landcover_resampling=landcover_resampling,
        erosion_resampling=erosion_resampling,
        t_sensitivity=t_sensitivity,
        erosion_layers=_layers_t_checked(erosion_layers, t_by_zone),
        findings=findings,
    )
    if out_value_checks is not None:
        (findings or ValueFindings()).save(out_value_checks)
    with atomic_path(out_crosstab) as tmp:
        table.to_netcdf(tmp)
    if out_sensitivity is not None:
        long = eroded.to_dataframe().reset_index()[["county_code", "t_km2", "eroded_area_km2"]]
        with atomic_path(out_sensitivity) as tmp:
            long.to_csv(tmp, index=False, float_format="%.17g")


def process_crosstab(
    *,
    counties_gpkg: str | Path,
    grid_json: str | Path,
    t_by_county: Mapping[str, float],
    erosion_layers: Sequence[Mapping[str, Any]],
    erosion_resampling: str = "auto",
    out_crosstab: str | Path,
    mem_mb: float = 1000,
    workers: int | None = None,
) -> None:
    """County × wind grade × water grade areas of one batch (NetCDF), for the by-process table.

    The wind layer's grades (0 no wind data, 1–6) take the place of the land-cover classes; water
    is graded with each county's T; land outside the water layer is water's data gap (grade 7).
    """
    window_size = zonal.window_for_memory(mem_mb, workers or 1)
    counties = read_prepared(counties_gpkg)
    grid = AnalysisGrid.from_json(grid_json)
    t_by_zone = _t_by_zone(counties, t_by_county)
    water = next(layer["path"] for layer in erosion_layers if layer["process"] == "water")
    table, _ = zonal.crosstab_with_sensitivity(
        water,
        water,
        counties,
        [1, 2, 3, 4, 5, 6],
        grid,
        t_by_zone,
        footprint=_erosion_footprint(water, erosion_layers, grid, water_only=True),
        window_size=window_size,
        workers=workers,
        erosion_resampling=erosion_resampling,
        erosion_layers=_layers_t_checked(erosion_layers, t_by_zone),
        landcover_is_wind_grade=True,
    )
    with atomic_path(out_crosstab) as tmp:
        table.to_netcdf(tmp)


def gather_process_crosstab(
    crosstabs: Sequence[str | Path], *, counties_gpkg: str | Path, out_crosstab: str | Path
) -> xr.DataArray:
    """Join the batches' county × wind grade × water grade tables (counties in code order)."""
    table = _join_batches(crosstabs, counties_gpkg)
    with atomic_path(out_crosstab) as tmp:
        table.to_netcdf(tmp)
    return table


def _join_batches(tables: Sequence[str | Path], counties_gpkg: str | Path) -> xr.DataArray:
    """The batches' tables joined along ``county_code`` (in code order); every county must be in one."""
    counties = read_prepared(counties_gpkg)
    table = xr.concat([zonal.read_crosstab(p) for p in tables], dim="county_code").sortby("county_code")
    missing = sorted(set(counties.county_code) - set(table.county_code.values))
    if missing:
        raise InputError(
            f"batch tables ({', '.join(map(str, tables))})",
            f"counties {missing} are in no batch.",
            "rerun the workflow from prepare_boundaries.",
        )
    return table


def erosion_by_process(
    crosstab_nc: str | Path,
    process_nc: str | Path | None = None,
    *,
    year: int,
    counties_gpkg: str | Path,
    region_code: str,
    region_name: str,
    demo: bool,
    out_csv: str | Path,
) -> pd.DataFrame:
    """erosion_by_process.csv: water, wind and total erosion area by grade per county and for the region.

    ``process_nc``: the year's county × wind grade × water grade table (None: no wind layer).
    """
    from swc_raster.processes import process_table

    counties = read_prepared(counties_gpkg)
    table = process_table(
        zonal.read_crosstab(crosstab_nc),
        None if process_nc is None else zonal.read_crosstab(process_nc),
        dict(zip(counties.county_code, counties.county_name)),
        year=year,
        region_code=region_code,
        region_name=region_name,
    )
    write_csv(table, out_csv, demo=demo)
    return table


def gather_crosstab(
    crosstabs: Sequence[str | Path],
    *,
    counties_gpkg: str | Path,
    out_crosstab: str | Path,
    value_checks: Sequence[str | Path] = (),
    year_entry: Mapping[str, Any] | None = None,
    legend_codes: Sequence[int] | None = None,
    unit_check: str = "error",
    out_value_checks: str | Path | None = None,
) -> list[str]:
    """Join the batches' cross-tabs (counties in code order); every county must be in one.

    The gate of the year's results: the batches' ``value_checks`` (what :func:`crosstab` found in
    the rasters' values) are added up and judged as the input checks judge them (``year_entry``: the
    year's rasters and erosion unit, as the messages name them; ``unit_check`` ``warn`` turns a
    doubtful unit into a warning).  Every problem raises one :class:`~swc_raster.errors.ValidationFailed`
    before anything is written; otherwise the joined table is written, and the findings with the
    warnings to ``out_value_checks`` (JSON).  Returns the warnings.
    """
    warnings_found = _judge_values(value_checks, year_entry, legend_codes, unit_check, out_value_checks)
    table = _join_batches(crosstabs, counties_gpkg)
    with atomic_path(out_crosstab) as tmp:
        table.to_netcdf(tmp)
    return warnings_found


def _judge_values(
    paths: Sequence[str | Path],
    year_entry: Mapping[str, Any] | None,
    legend_codes: Sequence[int] | None,
    unit_check: str,
    out_json: str | Path | None,
) -> list[str]:
    """Add up the batches' value findings, raise every problem, write the findings and warnings; the warnings."""
    from swc_raster.errors import ValidationFailed
    from swc_raster.value_checks import ValueFindings, judge

    if not paths:
        return []
    if year_entry is not None and has_erosion_layers(year_entry):
        # the values of a year with erosion layers were checked by validate_year
        if out_json is not None:
            report = {"year": year_entry["year"], "warnings": [], "checked_by": "validate_year"}
            with atomic_path(out_json) as tmp:
                Path(tmp).write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
        return []
    if year_entry is None:
        raise ValueError("year_entry is needed to judge the value checks (it names the rasters)")
    found = ValueFindings()
    for p in paths:
        found.update(ValueFindings.load(p))
    problems, warnings_found = judge(
        found,
        year=year_entry["year"],
        landcover=year_entry["landcover"],
        erosion=year_entry["erosion"],
        erosion_unit=year_entry["erosion_unit"],
        legend_codes=None if legend_codes is None else [int(c) for c in legend_codes],
        unit_check=unit_check,
    )
    if problems:
        raise ValidationFailed(problems)
    if out_json is not None:
        report = {"year": year_entry["year"], "warnings": warnings_found, **found.counts()}
        with atomic_path(out_json) as tmp:
            Path(tmp).write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return warnings_found


def landcover_table(
    crosstab_nc: str | Path,
    *,
    year: int,
    counties_gpkg: str | Path,
    legend_csv: str | Path,
    demo: bool,
    out_csv: str | Path,
) -> pd.DataFrame:
    """erosion_by_landcover.csv: county × land-cover class × grade areas with the legend's class names."""
    counties = read_prepared(counties_gpkg)
    names = dict(zip(counties.county_code, counties.county_name))
    table = rates.landcover_long(zonal.read_crosstab(crosstab_nc), names, read_legend(legend_csv).to_frame(), year=year)
    write_csv(table, out_csv, demo=demo)
    return table


# --------------------------------------------------------------------------- rates and targets


def county_rates(
    crosstab_nc: str | Path,
    *,
    year: int,
    counties_gpkg: str | Path,
    t_by_county: Mapping[str, float],
    region_code: str,
    region_name: str,
    demo: bool,
    out_csv: str | Path,
) -> pd.DataFrame:
    """The county_rates.csv table of one year."""
    counties = read_prepared(counties_gpkg)
    out = rates.county_rates(
        zonal.read_crosstab(crosstab_nc),
        dict(zip(counties.county_code, counties.county_name)),
        {c: float(t) for c, t in t_by_county.items()},
        year=year,
        region_code=region_code,
        region_name=region_name,
    )
    _warn_large_nodata(out)
    write_csv(out, out_csv, demo=demo)
    return out


def t_sensitivity(
    sensitivity_csvs: Sequence[str | Path],
    crosstab_nc: str | Path,
    *,
    year: int,
    counties_gpkg: str | Path,
    t_sensitivity: Sequence[float],
    region_code: str,
    region_name: str,
    demo: bool,
    out_csv: str | Path,
) -> pd.DataFrame:
    """t_sensitivity.csv: each county's (and the region's) rate at each alternative T.

    ``sensitivity_csvs``: the batches' eroded areas at each T (counted by ``crosstab`` in the same
    pass as the grades); the land and data-gap areas come from the year's cross-tab.
    """
    counties = read_prepared(counties_gpkg)
    eroded = pd.concat([pd.read_csv(p, dtype={"county_code": str}) for p in sensitivity_csvs], ignore_index=True)
    wanted = sorted(float(t) for t in t_sensitivity)
    found = sorted(set(eroded["t_km2"].astype(float)))
    if found != wanted:
        raise InputError(
            f"T-sensitivity counts ({', '.join(map(str, sensitivity_csvs))})",
            f"hold T = {found}, not the configured {wanted}.",
            "rerun the crosstab rule (allowable_loss.sensitivity_t_km2 changed after counting).",
        )
    table = rates.t_sensitivity(
        zonal.read_crosstab(crosstab_nc),
        eroded,
        dict(zip(counties.county_code, counties.county_name)),
        year=year,
        region_code=region_code,
        region_name=region_name,
    )
    write_csv(table, out_csv, demo=demo)
    return table


def _warn_large_nodata(table: pd.DataFrame) -> None:
    """Nodata inside the raster counts as non-eroded (rivers, masked towns); a large share may be a clipped raster."""
    counties = table[table.level == "county"]
    share = 100.0 * counties.nodata_area_km2 / counties.land_area_km2
    for (_, row), pct in zip(counties.iterrows(), share):
        if pct > NODATA_WARN_PCT:
            warnings.warn(
                f"county {row.county_code} {row.county_name}: {pct:.1f} % of its land has no erosion data and "
                "is counted as non-eroded (as for rivers and masked towns). If the erosion raster was clipped or "
                "has holes, the rate is too high: supply a raster that covers the county.",
                stacklevel=2,
            )


def compare_targets(
    rates_csv: str | Path,
    *,
    counties_gpkg: str | Path,
    targets_csv: str | Path,
    region_code: str,
    demo: bool,
    out_csv: str | Path,
) -> list[str]:
    """target_comparison.csv of one year; returns consistency warnings about the target table."""
    counties = read_prepared(counties_gpkg)
    table = targets.read_targets(targets_csv)
    targets.match_to_boundaries(table, counties, region_code, str(targets_csv))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        targets.check_region_consistency(table, dict(zip(counties.county_code, counties.polygon_area_km2)), region_code)
    write_csv(targets.compare(_read_csv(rates_csv), table), out_csv, demo=demo)
    return [str(w.message) for w in caught]


# --------------------------------------------------------------------------- several years


def summarise_years(
    rate_csvs: Sequence[str | Path],
    *,
    targets_csv: str | Path,
    lang: str,
    demo: bool,
    out_rates: str | Path,
    out_changes: str | Path,
    out_progress: str | Path,
    out_chart: str | Path,
) -> pd.DataFrame:
    """Multi-year tables (rates by year, changes, progress toward targets) and the progress chart."""
    long = progress.rates_by_year([_read_csv(p) for p in rate_csvs])
    table = targets.read_targets(targets_csv)
    status = progress.progress(long, table)
    for path, frame in ((out_rates, long), (out_changes, progress.changes(long)), (out_progress, status)):
        write_csv(frame, path, demo=demo)
    progress.plot_county_progress(long, table, out_chart, lang=lang, demo=demo)
    return status


def transitions(
    grade_from: str | Path,
    grade_to: str | Path,
    *,
    zones_tif: str | Path,
    counties_gpkg: str | Path,
    year_from: int,
    year_to: int,
    lang: str,
    out_csv: str | Path,
    out_map: str | Path,
) -> None:
    """One batch's grade transition table per county and its improved/worsened map (both temporary)."""
    counties = read_prepared(counties_gpkg)
    table = transition_lib.transition_matrix(
        grade_from, grade_to, zones_tif, dict(zip(counties.zone, counties.county_code))
    )
    table.insert(0, "year_from", year_from)
    table.insert(1, "year_to", year_to)
    table.insert(3, "county_name", table["county_code"].map(dict(zip(counties.county_code, counties.county_name))))
    write_csv(table, out_csv, demo=False)
    transition_lib.change_map(grade_from, grade_to, out_map, year_from=year_from, year_to=year_to, lang=lang)


def gather_transitions(
    tables: Sequence[str | Path],
    change_maps: Sequence[str | Path],
    *,
    year_from: int,
    year_to: int,
    lang: str,
    demo: bool,
    out_csv: str | Path,
    out_map: str | Path,
) -> None:
    """Stack the batches' transition tables into one CSV and join their change maps into one COG."""
    from swc_raster import gis_outputs as gis

    write_csv(pd.concat([_read_csv(p) for p in tables], ignore_index=True), out_csv, demo=demo)
    gis.write_change_cog(
        list(map(str, change_maps)), out_map, year_from=year_from, year_to=year_to, lang=lang, demo=demo
    )


def mosaic_grade(sources: Sequence[str | Path], *, lang: str, demo: bool, out_raster: str | Path) -> None:
    """The batches' grade rasters of one year as one Cloud-Optimized GeoTIFF with class names and colours."""
    from swc_raster import gis_outputs as gis

    gis.write_grade_cog(list(map(str, sources)), out_raster, lang=lang, demo=demo)


def mosaic_landcover(
    sources: Sequence[str | Path], *, legend_csv: str | Path, lang: str, demo: bool, out_raster: str | Path
) -> None:
    """The batches' aligned land cover of one year as one COG with the legend's names and colours."""
    from swc_raster import gis_outputs as gis

    gis.write_landcover_cog(
        list(map(str, sources)), out_raster, read_legend(legend_csv).to_frame(), lang=lang, demo=demo
    )


# --------------------------------------------------------------------------- publishing


def draw_map(
    kind: str,
    inputs: Mapping[str, str],
    *,
    year: int,
    lang: str,
    demo: bool,
    source_note: str | None,
    region_name: str,
    out_png: str | Path,
    out_pdf: str | Path,
) -> None:
    """One of the year's maps (PNG at 300 dpi and PDF) from the year's outputs."""
    from swc_raster import maps

    common = {"year": year, "lang": lang, "demo": demo, "source_note": source_note}
    if kind == "rate":
        maps.rate_map(inputs["rates"], inputs["counties"], out_png, out_pdf, **common)
    elif kind == "target_gap":
        maps.target_gap_map(inputs["comparison"], inputs["counties"], out_png, out_pdf, **common)
    elif kind == "grade":
        maps.grade_map(inputs["grade"], inputs["counties"], out_png, out_pdf, region_name=region_name, **common)
    elif kind == "landcover":
        maps.landcover_map(
            inputs["landcover"],
            inputs["legend"],
            inputs["counties"],
            out_png,
            out_pdf,
            region_name=region_name,
            **common,
        )
    else:
        raise ValueError(f"unknown map kind {kind!r}; one of {MAP_KINDS}")


def _with_software(method: Mapping[str, Any]) -> dict[str, Any]:
    from swc_raster.tables import software_versions

    return {**method, "software": software_versions()}


def workbook(
    rates_csv: str | Path,
    comparison_csv: str | Path,
    long_csv: str | Path,
    *,
    process_csv: str | Path | None = None,
    method: Mapping[str, Any],
    lang: str,
    demo: bool,
    out_xlsx: str | Path,
) -> None:
    """The bulletin workbook of one year (with the by-process sheet when ``process_csv`` is given)."""
    from swc_raster import tables

    tables.write_workbook(
        rates_csv,
        comparison_csv,
        long_csv,
        out_xlsx,
        lang=lang,
        demo=demo,
        method=_with_software(method),
        process_csv=process_csv,
    )


def gis_outputs(
    rates_csv: str | Path,
    comparison_csv: str | Path,
    counties_gpkg: str | Path,
    *,
    process_csv: str | Path | None = None,
    lang: str,
    demo: bool,
    out_gpkg: str | Path,
) -> None:
    """Counties with every attribute (by-process erosion areas when ``process_csv`` is given), UTF-8 names
    and a QGIS style (layer_styles), as a GeoPackage."""
    from swc_raster import gis_outputs as gis

    gis.write_counties_gpkg(
        counties_gpkg, rates_csv, comparison_csv, out_gpkg, lang=lang, demo=demo, process_csv=process_csv
    )


def year_report(
    inputs: Mapping[str, str],
    *,
    year: int,
    method: Mapping[str, Any],
    lang: str,
    demo: bool,
    out_html: str | Path,
) -> None:
    """The self-contained HTML assessment report of one year (with the multi-year section when given its inputs)."""
    from swc_raster import report

    map_pngs = {kind: inputs[f"map_{kind}"] for kind in MAP_KINDS if f"map_{kind}" in inputs}
    multi_year = None
    if "progress" in inputs:
        multi_year = {
            "rates_by_year": inputs["rates_by_year"],
            "progress": inputs["progress"],
            "charts": {"progress_chart": inputs["progress_chart"]},
        }
    years = sorted(key.removeprefix("onemap_rates_") for key in inputs if key.startswith("onemap_rates_"))
    one_map = {
        "counties": inputs["counties"],
        "years": {
            y: {
                "rates": inputs[f"onemap_rates_{y}"],
                "comparison": inputs[f"onemap_comparison_{y}"],
                **({"grade": inputs[f"onemap_grade_{y}"]} if f"onemap_grade_{y}" in inputs else {}),
            }
            for y in years
        },
        **({"progress": inputs["progress"]} if "progress" in inputs else {}),
    }
    report.write_report(
        out_html,
        year=year,
        county_rates_csv=inputs["rates"],
        target_comparison_csv=inputs["comparison"],
        erosion_by_landcover_csv=inputs["long"],
        map_pngs=map_pngs,
        method=_with_software(method),
        lang=lang,
        demo=demo,
        multi_year=multi_year,
        one_map=one_map if years else None,
        t_sensitivity_csv=inputs.get("t_sensitivity"),
        erosion_by_process_csv=inputs.get("erosion_by_process"),
    )


# --------------------------------------------------------------------------- CSLE branch


def csle_erosion(
    year_entry: Mapping[str, Any],
    *,
    counties_gpkg: str | Path,
    boundaries_settings: Mapping[str, Any],
    analysis_crs: str,
    validation_rules: Mapping[str, Any],
    legend_codes: Sequence[int],
    region_code: str,
    region_name: str,
    demo: bool,
    outputs: Mapping[str, str],
    log=None,
) -> dict:
    """The CSLE branch of one year: check every input of the year, then compute the factors and A.

    ``year_entry``: the config's ``years:`` entry (with its ``csle:`` block).  ``outputs``:
    the paths of ``swc_raster.csle_raster.output_paths`` (keys R, K, LS, B, E, T, A, means).
    Every input of the year is validated first, so nothing is computed from a bad input.
    """
    from swc_raster import csle_raster
    from swc_raster.csv_files import DEMO_TAG, DEMO_TAG_KEY

    year = int(year_entry["year"])
    entry = {k: v for k, v in dict(year_entry).items() if k not in ("erosion", "erosion_unit")}
    found = validate.check_year(
        _checks_config(entry, boundaries_settings, analysis_crs, validation_rules, legend_codes), Path.cwd(), year
    )
    for text in found:
        warnings.warn(text, stacklevel=2)
    return csle_raster.compute_year(
        csle_raster.CsleInputs.from_entry(entry),
        read_prepared(counties_gpkg),
        outputs,
        year=year,
        min_coverage_pct=float(validation_rules["min_coverage_pct"]),
        unit_check=str(validation_rules["unit_check"]),
        region_code=region_code,
        region_name=region_name,
        tags={DEMO_TAG_KEY: DEMO_TAG} if demo else {},
        log=log,
    )


# --------------------------------------------------------------------------- all-vector years


def vector_crosstab(
    counties_gpkg: str | Path,
    *,
    erosion_patches: Mapping[str, Any],
    landuse_polygons: Mapping[str, Any],
    landcover_legend: str,
    legend_codes: Sequence[int],
    t_by_county: Mapping[str, float],
    analysis_crs: str,
    out_crosstab: str | Path,
    out_notes: str | Path,
) -> xr.DataArray:
    """County × land cover × grade areas of a year delivered as polygons, by exact overlay.

    ``erosion_patches`` and ``landuse_polygons`` are the year's config blocks (plain dicts);
    the land-use codes map onto the legend by ``code_map`` (default: the legend's own name when
    it is ``gbt21010`` or ``gbt21010_8``).  Every problem of the layers is raised before writing.
    """
    from swc_raster import vector_inputs

    p, lu = dict(erosion_patches), dict(landuse_polygons)
    patches = vector_inputs.read_erosion_patches(
        p["path"],
        layer=p.get("layer"),
        analysis_crs=analysis_crs,
        grade_field=p.get("grade_field"),
        grade_codes=p.get("grade_codes"),
        modulus_field=p.get("modulus_field"),
        modulus_unit=p.get("modulus_unit"),
    )
    code_map = lu.get("code_map") or landcover_legend
    if str(code_map).strip().lower() not in vector_inputs.CODE_MAPS and not Path(code_map).is_file():
        raise InputError(
            "landuse_polygons.code_map",
            "is not set, and the legend is not gbt21010 or gbt21010_8.",
            "set `code_map:` to gbt21010, gbt21010_8 or a CSV survey_code,legend_code.",
        )
    landuse = vector_inputs.read_landuse_polygons(
        lu["path"],
        layer=lu.get("layer"),
        analysis_crs=analysis_crs,
        code_field=lu["code_field"],
        code_map=vector_inputs.read_code_map(code_map),
        legend_codes=legend_codes,
    )
    uncovered = p.get("uncovered", "slight")
    table = vector_inputs.crosstab_exact(
        read_prepared(counties_gpkg),
        patches,
        landuse=landuse,
        legend_codes=list(legend_codes),
        t_by_county=t_by_county,
        uncovered=uncovered,
    )
    notes = vector_inputs.uncovered_rule_notes(table, patches, uncovered)
    for note in notes:
        warnings.warn(note, stacklevel=2)
    with atomic_path(out_crosstab) as tmp:
        table.to_netcdf(tmp)
    with atomic_path(out_notes) as tmp:
        Path(tmp).write_text(json.dumps({"warnings": notes}, ensure_ascii=False, indent=1), encoding="utf-8")
    return table
