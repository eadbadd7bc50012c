"""One function per workflow stage: files in, files out.

Each Snakemake rule's script calls exactly one of these, so every stage can
also be run (and debugged) from Python without Snakemake.
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path


import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import rasterio.merge
import xarray as xr

from swc_raster import (align, boundaries, gis_outputs, maps, progress, rates, report, tables, targets, transitions,
                        validate, zonal)
from swc_raster.atomic import atomic_path
from swc_raster.config import allowable_loss
from swc_raster.errors import CoverageError, InputError, InputFileError
from swc_raster.grading import check_allowable_loss
from swc_raster.grid import AnalysisGrid, require_equal_area

LAYER = "counties"


def read_legend(path: str | Path) -> pd.DataFrame:
    """The land-cover legend: ``code, name_zh, name_en`` (codes unique integers ≥ 1)."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"landcover_legend ({path})", "the file does not exist.", "check `landcover_legend:` in the config.")
    legend = pd.read_csv(path, encoding="utf-8-sig")
    need = {"code", "name_zh", "name_en"}
    if not need <= set(legend.columns):
        raise InputError(f"landcover_legend ({path})", f"needs columns {sorted(need)}; has {list(legend.columns)}.",
                         "use the layout of config/landcover_legend.csv.")
    if legend["code"].duplicated().any() or (legend["code"] < 1).any():
        raise InputError(f"landcover_legend ({path})", "codes must be unique integers ≥ 1 (0 means no data).",
                         "fix the code column.")
    return legend


def prepare_boundaries(cfg: dict, out_gpkg: str | Path) -> list[str]:
    """All counties → analysis CRS, with zone ids, T and polygon area. Returns repair notes."""
    b = cfg["boundaries"]
    crs_wkt = require_equal_area(cfg["analysis"]["crs"]).to_wkt()
    counties, notes = boundaries.prepare(b["path"], b["layer"], b["code_field"], b["name_field"], crs_wkt,
                                         b.get("name_en_field"))
    for code in counties.county_code:
        check_allowable_loss(allowable_loss(cfg, code))
    counties["t_allowable_t_km2"] = [allowable_loss(cfg, c) for c in counties.county_code]
    with atomic_path(out_gpkg) as tmp:
        counties.to_file(tmp, layer=LAYER, driver="GPKG")
    return notes


def prepare_batch(cfg: dict, counties_gpkg: str | Path, codes: list[str], out_gpkg: str | Path,
                  out_grid: str | Path, out_zones: str | Path) -> AnalysisGrid:
    """One batch's counties (zone ids 1..n), its analysis grid and its zone raster."""
    counties = read_prepared(counties_gpkg)
    batch = counties[counties.county_code.isin(set(codes))].reset_index(drop=True)
    missing = sorted(set(codes) - set(batch.county_code))
    if missing:
        raise InputError(f"batch counties ({counties_gpkg})", f"codes {missing} are not in the prepared boundaries.",
                         "rerun prepare_boundaries (the boundaries file changed after planning).")
    batch["zone"] = np.arange(1, len(batch) + 1, dtype="int32")
    grid = AnalysisGrid.covering(tuple(batch.total_bounds), cfg["analysis"]["crs"], cfg["analysis"]["resolution_m"])
    cells = zonal.write_zones_raster(batch, grid, out_zones)
    # A county holding no cell centre would be missing from every raster (one county per cell) and its
    # rate would rest on slivers alone; such polygons are boundary errors: stop here, before any raster work.
    empty = [f"{c} {n}" for z, c, n in zip(batch.zone, batch.county_code, batch.county_name) if cells[z] == 0]
    if empty:
        Path(out_zones).unlink()
        raise CoverageError(f"counties {', '.join(empty)}",
                            f"contain no cell centre of the {grid.res:g} m analysis grid, so no map or raster could show them.",
                            "use a finer analysis.resolution_m, or check that these polygons are not slivers.")
    with atomic_path(out_gpkg) as tmp:
        batch.to_file(tmp, layer=LAYER, driver="GPKG")
    with atomic_path(out_grid) as tmp:
        grid.to_json(tmp)
    return grid


def read_prepared(path: str | Path) -> gpd.GeoDataFrame:
    """The prepared counties (analysis CRS, zone ids, codes as strings)."""
    gdf = gpd.read_file(path, layer=LAYER)
    gdf["county_code"] = gdf["county_code"].astype(str)
    return gdf


def align_year(cfg: dict, year_entry: dict, grid_json: str | Path, out_landcover: str | Path,
               out_erosion: str | Path, window_size: int = 2048) -> dict[str, str]:
    """Land cover and erosion of one year onto the analysis grid. Returns the resampling methods used."""
    grid = AnalysisGrid.from_json(grid_json)
    lc = align.align_landcover(year_entry["landcover"], grid, out_landcover,
                               cfg["analysis"]["landcover_resampling"], window_size)
    er = align.align_erosion(year_entry["erosion"], year_entry.get("erosion_unit"), grid, out_erosion,
                             cfg["analysis"]["erosion_resampling"], window_size)
    return {"landcover": lc, "erosion": er}


def _t_by_zone(counties: gpd.GeoDataFrame) -> np.ndarray:
    """Each county's T (t/(km²·a)) indexed by its zone id (index 0 unused)."""
    t_by_zone = np.zeros(int(counties.zone.max()) + 1)
    t_by_zone[counties.zone.to_numpy()] = counties.t_allowable_t_km2.to_numpy()
    return t_by_zone


def grade_year(erosion_aligned: str | Path, erosion_source: str | Path, counties_gpkg: str | Path,
               grid_json: str | Path, out_grade: str | Path, window_size: int = 2048) -> None:
    """The SL 190 grade raster of one year, with each county's T."""
    counties = read_prepared(counties_gpkg)
    zonal.write_grade_raster(erosion_aligned, erosion_source, counties, _t_by_zone(counties),
                             AnalysisGrid.from_json(grid_json), out_grade, window_size)


def tabulate_batch(cfg: dict, landcover_aligned: str | Path, erosion_aligned: str | Path, erosion_source: str | Path,
                   counties_gpkg: str | Path, grid_json: str | Path, out_crosstab: str | Path, mem_mb: float = 1000,
                   workers: int | None = None) -> None:
    """County × land cover × grade areas of one batch (NetCDF), grading the aligned modulus with each county's T.

    The window size follows from ``mem_mb`` and ``workers``; county land outside
    the source erosion raster's footprint is grade 7 (data gap).
    """
    window_size = zonal.window_for_memory(mem_mb, workers or 1)
    counties = read_prepared(counties_gpkg)
    grid = AnalysisGrid.from_json(grid_json)
    legend = read_legend(cfg["landcover_legend"])
    with align.open_raster(erosion_source, "erosion") as src:
        cover = align.footprint(src, grid.crs_wkt)
    table = zonal.crosstab(landcover_aligned, erosion_aligned, counties, legend["code"].tolist(), grid,
                           _t_by_zone(counties), footprint=cover, window_size=window_size, workers=workers)
    with atomic_path(out_crosstab) as tmp:
        table.to_netcdf(tmp)


def read_crosstab(path: str | Path) -> xr.DataArray:
    with xr.open_dataarray(path) as da:
        table = da.load()
    return table.assign_coords(county_code=[str(c) for c in table.county_code.values])


def gather_crosstabs(cfg: dict, year: int, crosstabs: list[str], counties_gpkg: str | Path,
                     out_crosstab: str | Path, out_long_csv: str | Path) -> xr.DataArray:
    """Join the batches' cross-tabs (counties in code order) and write the long CSV."""
    counties = read_prepared(counties_gpkg)
    table = xr.concat([read_crosstab(p) for p in crosstabs], dim="county_code").sortby("county_code")
    missing = sorted(set(counties.county_code) - set(table.county_code.values))
    if missing:
        raise InputError("cross-tabs", f"counties {missing} are in no batch.", "rerun the workflow from prepare_boundaries.")
    with atomic_path(out_crosstab) as tmp:
        table.to_netcdf(tmp)
    names = dict(zip(counties.county_code, counties.county_name))
    with atomic_path(out_long_csv) as tmp:
        rates.landcover_long(table, names, read_legend(cfg["landcover_legend"]), year=year).to_csv(
            tmp, index=False, encoding="utf-8")
    return table


def mosaic(sources: list[str], out_path: str | Path, *, grade_cog: bool = False) -> None:
    """Join batch rasters on the shared grid into one tiled GeoTIFF (nodata cells never cover data).

    ``grade_cog``: write the grade raster as a Cloud-Optimized GeoTIFF with
    overviews and the grade colour table, ready for QGIS.
    """
    out_path = Path(out_path)
    with rasterio.open(sources[0]) as first:
        profile = first.profile
        colormap = _colormap(first)
    if len(sources) == 1:
        if grade_cog:
            gis_outputs.write_grade_cog(sources[0], out_path)
            return
        with atomic_path(out_path) as tmp:
            shutil.copyfile(sources[0], tmp)
        return
    merged = out_path.with_name(f".{out_path.stem}.merged.tif") if grade_cog else None
    with atomic_path(merged or out_path) as tmp:
        rasterio.merge.merge(sources, nodata=profile["nodata"], dst_path=tmp, mem_limit=256,
                             dst_kwds={**{k: profile[k] for k in ("tiled", "blockxsize", "blockysize", "compress")
                                          if k in profile}, "BIGTIFF": "IF_SAFER"})
        if colormap:
            with rasterio.open(tmp, "r+") as dst:
                dst.write_colormap(1, colormap)
    if merged:
        try:
            gis_outputs.write_grade_cog(merged, out_path)
        finally:
            merged.unlink(missing_ok=True)


def _colormap(ds) -> dict | None:
    try:
        return ds.colormap(1)
    except ValueError:  # no colour table
        return None


def rates_year(cfg: dict, year: int, crosstab_nc: str | Path, counties_gpkg: str | Path,
               out_csv: str | Path) -> pd.DataFrame:
    """The county_rates.csv table of one year."""
    counties = read_prepared(counties_gpkg)
    table = read_crosstab(crosstab_nc)
    out = rates.county_rates(table, dict(zip(counties.county_code, counties.county_name)),
                             dict(zip(counties.county_code, counties.t_allowable_t_km2)), year=year,
                             region_code=cfg["region"]["code"], region_name=cfg["region"]["name"])
    _warn_large_nodata(out)
    with atomic_path(out_csv) as tmp:
        out.to_csv(tmp, index=False, encoding="utf-8")
    return out


#: Above this share of a county's land, erosion nodata (counted as non-eroded) is worth a warning.
NODATA_WARN_PCT = 5.0


def _warn_large_nodata(table: pd.DataFrame) -> None:
    """Nodata inside the raster counts as non-eroded (rivers, masked towns); a large share may be a clipped raster."""
    counties = table[table.level == "county"]
    share = 100.0 * counties.nodata_area_km2 / counties.land_area_km2
    for (_, row), pct in zip(counties.iterrows(), share):
        if pct > NODATA_WARN_PCT:
            warnings.warn(f"county {row.county_code} {row.county_name}: {pct:.1f} % of its land has no erosion data and "
                          "is counted as non-eroded (as for rivers and masked towns). If the erosion raster was clipped or "
                          "has holes, the rate is too high: supply a raster that covers the county.", stacklevel=2)


def compare_year(cfg: dict, rates_csv: str | Path, counties_gpkg: str | Path, out_csv: str | Path) -> list[str]:
    """target_comparison.csv of one year; returns consistency warnings about the target table."""
    counties = read_prepared(counties_gpkg)
    table = targets.read_targets(cfg["targets"])
    targets.match_to_boundaries(table, counties, cfg["region"]["code"], cfg["targets"])
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        notes = targets.check_region_consistency(
            table, dict(zip(counties.county_code, counties.polygon_area_km2)), cfg["region"]["code"])
    r = pd.read_csv(rates_csv, dtype={"county_code": str})
    with atomic_path(out_csv) as tmp:
        targets.compare(r, table).to_csv(tmp, index=False, encoding="utf-8")
    return notes


def summarise_years(cfg: dict, rate_csvs: list[str], out_rates: str | Path, out_changes: str | Path,
                    out_progress: str | Path, out_chart: str | Path) -> pd.DataFrame:
    """Multi-year tables (rates by year, changes, progress toward targets) and the progress chart."""
    long = progress.rates_by_year([pd.read_csv(p, dtype={"county_code": str}) for p in rate_csvs])
    table = targets.read_targets(cfg["targets"])
    outputs = {out_rates: long, out_changes: progress.changes(long), out_progress: progress.progress(long, table)}
    for path, frame in outputs.items():
        with atomic_path(path) as tmp:
            frame.to_csv(tmp, index=False, encoding="utf-8")
    progress.plot_county_progress(long, table, out_chart, lang=cfg["publish"]["lang"], demo=cfg["demo"])
    return outputs[out_progress]


def transitions_between(grade_from: str | Path, grade_to: str | Path, zones_tif: str | Path,
                        counties_gpkg: str | Path, year_from: int, year_to: int, out_csv: str | Path,
                        out_map: str | Path) -> None:
    """One batch's grade transition table per county and its improved/worsened map."""
    counties = read_prepared(counties_gpkg)
    table = transitions.transition_matrix(grade_from, grade_to, zones_tif, dict(zip(counties.zone, counties.county_code)))
    names = dict(zip(counties.county_code, counties.county_name))
    table.insert(0, "year_from", year_from)
    table.insert(1, "year_to", year_to)
    table.insert(3, "county_name", table["county_code"].map(names))
    with atomic_path(out_csv) as tmp:
        table.to_csv(tmp, index=False, encoding="utf-8")
    transitions.change_map(grade_from, grade_to, out_map)


def gather_transitions(tables: list[str], change_maps: list[str], out_csv: str | Path, out_map: str | Path) -> None:
    """Stack the batches' transition tables into one CSV and mosaic their change maps."""
    with atomic_path(out_csv) as tmp:
        pd.concat([pd.read_csv(p, dtype={"county_code": str}) for p in tables], ignore_index=True).to_csv(
            tmp, index=False, encoding="utf-8")
    mosaic(change_maps, out_map)


def validate_year(cfg: dict, year: int, out_json: str | Path) -> list[str]:
    """Run every input check for one year; write the warnings (the run stops on any problem)."""
    found = validate.validate(cfg, Path.cwd(), years=[year])
    with atomic_path(out_json) as tmp:
        Path(tmp).write_text(json.dumps({"year": year, "problems": [], "warnings": found}, ensure_ascii=False, indent=1),
                             encoding="utf-8")
    return found


# --------------------------------------------------------------------------- publishing

MAP_KINDS = ("rate", "target_gap", "grade", "landcover")


def draw_map(cfg: dict, kind: str, year: int, inputs: dict[str, str], out_png: str | Path, out_pdf: str | Path) -> None:
    """One of the year's maps (PNG at 300 dpi and PDF) from the year's outputs."""
    common = {"year": year, "lang": cfg["publish"]["lang"], "demo": cfg["demo"], "source_note": cfg["publish"]["source_note"]}
    region = cfg["region"]["name"] if cfg["publish"]["lang"] == "zh" else cfg["region"].get("name_en", cfg["region"]["name"])
    if kind == "rate":
        maps.rate_map(inputs["rates"], inputs["counties"], out_png, out_pdf, **common)
    elif kind == "target_gap":
        maps.target_gap_map(inputs["comparison"], inputs["counties"], out_png, out_pdf, **common)
    elif kind == "grade":
        maps.grade_map(inputs["grade"], inputs["counties"], out_png, out_pdf, region_name=region, **common)
    elif kind == "landcover":
        maps.landcover_map(inputs["landcover"], inputs["legend"], inputs["counties"], out_png, out_pdf,
                           region_name=region, **common)
    else:
        raise ValueError(f"unknown map kind {kind!r}; one of {MAP_KINDS}")


def method_record(cfg: dict, year: int, counties_gpkg: str | Path) -> dict:
    """Every parameter behind a year's numbers, for the report and the workbook's notes."""
    counties = read_prepared(counties_gpkg)
    entry = next(e for e in cfg["years"] if int(e["year"]) == int(year))
    return {
        "formula": ("rate = (land − gap − erosion) / (land − gap) × 100; erosion = SL 190-2007 grades 2–6 (A ≥ T); "
                    "erosion nodata counts as non-eroded land; gap = land outside the erosion raster (0 when covered)"),
        "allowable_loss_t_km2": {f"{c} {n}": float(t) for c, n, t in
                                 zip(counties.county_code, counties.county_name, counties.t_allowable_t_km2)},
        "analysis_crs": cfg["analysis"]["crs"],
        "resolution_m": cfg["analysis"]["resolution_m"],
        "resampling": {"landcover": cfg["analysis"]["landcover_resampling"], "erosion": cfg["analysis"]["erosion_resampling"]},
        "erosion_unit": entry.get("erosion_unit"),
        "edge_rule": ("coverage fraction in the tables (a boundary cell counts in each county by the share of it inside); "
                      "pixel centre in the rasters"),
        "inputs": {"boundaries": cfg["boundaries"]["path"], "targets": cfg["targets"], "landcover_legend": cfg["landcover_legend"],
                   "landcover": entry["landcover"], "erosion": entry["erosion"]},
        "software": tables.software_versions(),
    } | ({"csle": entry["csle"]} if entry.get("csle") else {})


def write_year_tables(cfg: dict, year: int, rates_csv: str, comparison_csv: str, long_csv: str, counties_gpkg: str,
                      out_xlsx: str | Path) -> None:
    """The bulletin workbook of one year."""
    tables.write_workbook(rates_csv, comparison_csv, long_csv, out_xlsx, lang=cfg["publish"]["lang"], demo=cfg["demo"],
                          method=method_record(cfg, year, counties_gpkg))


def write_gis(rates_csv: str, comparison_csv: str, counties_gpkg: str, out_gpkg: str | Path) -> None:
    """Counties with every attribute, UTF-8 names, as a GeoPackage for QGIS."""
    gis_outputs.write_counties_gpkg(counties_gpkg, rates_csv, comparison_csv, out_gpkg)


def write_year_report(cfg: dict, year: int, inputs: dict[str, str], out_html: str | Path) -> None:
    """The self-contained HTML assessment report of one year (with the multi-year section when given its inputs)."""
    map_pngs = {kind: inputs[f"map_{kind}"] for kind in MAP_KINDS}
    multi_year = None
    if "progress" in inputs:
        multi_year = {"rates_by_year": inputs["rates_by_year"], "progress": inputs["progress"],
                      "charts": {"progress_chart": inputs["progress_chart"]}}
    report.write_report(out_html, year=year, county_rates_csv=inputs["rates"], target_comparison_csv=inputs["comparison"],
                        erosion_by_landcover_csv=inputs["long"], map_pngs=map_pngs,
                        method=method_record(cfg, year, inputs["counties"]), lang=cfg["publish"]["lang"],
                        demo=cfg["demo"], multi_year=multi_year)


# --------------------------------------------------------------------------- CSLE branch (issue 7)


def csle_erosion_year(cfg: dict, year: int, counties_gpkg: str | Path, outputs: dict[str, str],
                      log=None) -> dict:
    """The CSLE branch of one year: check every input of the year, then compute the factors and A.

    ``outputs``: the paths of ``swc_raster.csle_raster.output_paths`` (keys R, K, LS,
    B, E, T, A, means).  All inputs of the year are validated first (the same checks
    as the validate_inputs stage, CSLE factors included) so that nothing is computed
    from a bad input; every problem is reported together.  Returns a summary.
    """
    from swc_raster import csle_raster
    from swc_raster.demo import DEMO_TAG, DEMO_TAG_KEY

    found = validate.validate(cfg, Path.cwd(), years=[year])
    for w in found:
        warnings.warn(w, stacklevel=2)
    entry = next(e for e in cfg["years"] if str(e["year"]) == str(year))
    inputs = csle_raster.CsleInputs.from_entry(entry)
    tags = {DEMO_TAG_KEY: DEMO_TAG} if cfg.get("demo") else {}
    return csle_raster.compute_year(
        inputs, read_prepared(counties_gpkg), outputs, year=year,
        min_coverage_pct=float(cfg.get("validation", {}).get("min_coverage_pct", 99.0)),
        unit_check=str(cfg.get("validation", {}).get("unit_check", "error")),
        region_code=cfg["region"]["code"], region_name=cfg["region"]["name"], tags=tags, log=log)
