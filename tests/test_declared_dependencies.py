"""Every number follows from its declared inputs and params: a config edit after a finished run
reruns exactly the outputs that depend on the edited value (issue 11).

One small two-county run is made once; each edit is applied to a copy of it (file times kept)
and a dry run says which jobs Snakemake would run.  The expected sets are written from the
meaning of each value (what it changes in the science), not read from the workflow.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests._rasters import ROOT, erosion_raster, landcover_raster, write_two_counties
from tests._tools import run_snakemake

pytestmark = pytest.mark.workflow
CODES = ["140502", "140581"]

# Jobs of a one-year, one-batch run, by what they compute.
PREPARE = {"prepare_boundaries", "prepare_batch"}
CHECK_AND_ALIGN = {"validate_year", "align", "mosaic_landcover"}
COUNT = {"grade", "crosstab", "gather_crosstab", "mosaic_grade"}
LANDCOVER_TABLE = {"landcover_table"}
PROCESS_TABLE = {"erosion_by_process"}  # water, wind, total by grade (a water-only year: from the cross-tab)
RATES = {"county_rates"}
TARGETS = {"compare_targets"}
SUMMARY = {"summarise_years"}
MAPS = {"draw_map:rate", "draw_map:target_gap", "draw_map:grade", "draw_map:landcover"}
PUBLISH = {"workbook", "gis_outputs", "year_report"}
EVERYTHING = (
    PREPARE | CHECK_AND_ALIGN | COUNT | LANDCOVER_TABLE | PROCESS_TABLE | RATES | TARGETS | SUMMARY | MAPS | PUBLISH
)


def _run(workdir: Path, *extra: str) -> subprocess.CompletedProcess:
    return run_snakemake(workdir, "config.yaml", *extra)


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A finished run whose config uses paths relative to its folder (so a copy of the folder is the same run)."""
    tmp = tmp_path_factory.mktemp("deps")
    area = write_two_counties(tmp)
    shutil.copy(ROOT / "config/landcover_legend.csv", tmp / "legend.csv")
    erosion_raster(tmp / "erosion.tif", area)
    landcover_raster(tmp / "landcover.tif", area)
    cfg = {
        "region": {"code": "140500", "name": "两县", "name_en": "Two counties"},
        "boundaries": {"path": "counties.gpkg", "layer": "counties"},
        "targets": "targets.csv",
        "landcover_legend": "legend.csv",
        "analysis": {"grid": "equal_area", "resolution_m": 60},  # the resolution matters on this grid
        "allowable_loss": {"default_t_km2": 200, "by_county": {"140581": 1000}},
        "validation": {"min_coverage_pct": 99},
        "years": [{"year": 2023, "landcover": "landcover.tif", "erosion": "erosion.tif", "erosion_unit": "t/km2/a"}],
    }
    (tmp / "config.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    result = _run(tmp)
    assert result.returncode == 0, result.stderr[-4000:]
    return tmp


def _scheduled(workdir: Path) -> set[str]:
    """The jobs a dry run would execute: rule names, with the map kind for draw_map."""
    result = _run(workdir, "-n")
    assert result.returncode == 0, result.stderr[-4000:]
    out = result.stdout + result.stderr
    if "Nothing to be done" in out:
        return set()
    jobs, rule = set(), None
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("rule ") and line.endswith(":"):
            rule = line[5:-1]
            if rule != "draw_map" and rule != "all":
                jobs.add(rule)
        elif rule == "draw_map" and line.startswith("wildcards:"):
            jobs.add("draw_map:" + line.split("kind=")[1].split(",")[0].strip())
    return jobs


def _edit(finished: Path, tmp_path: Path, change) -> Path:
    """A copy of the finished run (file times kept) with ``change(folder, config)`` applied."""
    copy = tmp_path / "run"
    shutil.copytree(finished, copy, symlinks=True)
    cfg = yaml.safe_load((copy / "config.yaml").read_text(encoding="utf-8"))
    change(copy, cfg)
    (copy / "config.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return copy


def _set(*keys):
    def change(folder, cfg, value=keys[-1]):
        node = cfg
        for k in keys[:-2]:
            node = node.setdefault(k, {})
        node[keys[-2]] = value

    return change


def _edit_csv(name, row, column, value):
    def change(folder, cfg):
        table = pd.read_csv(folder / name, dtype=str)
        table.loc[row, column] = value
        table.to_csv(folder / name, index=False)

    return change


def _unchanged(folder, cfg):
    pass


# T decides the grades, so the counts; land cover, boundaries and the grid stay.
AFTER_T = (
    COUNT
    | LANDCOVER_TABLE
    | PROCESS_TABLE
    | RATES
    | TARGETS
    | SUMMARY
    | {"draw_map:rate", "draw_map:target_gap", "draw_map:grade"}
    | PUBLISH
)
EDITS = {
    "nothing": (_unchanged, set()),
    "T default": (_set("allowable_loss", "default_t_km2", 500), AFTER_T),
    "T of one county": (_set("allowable_loss", "by_county", {"140581": 500}), AFTER_T),
    # Alternative T values are counted in the counting pass (not grading): counting and what follows, the new
    # table, and the method record's readers; the grade raster and its map stay.
    "T sensitivity list": (
        _set("allowable_loss", "sensitivity_t_km2", [500, 1000]),
        {"crosstab", "gather_crosstab", "t_sensitivity"}
        | LANDCOVER_TABLE
        | PROCESS_TABLE
        | RATES
        | TARGETS
        | SUMMARY
        | {"draw_map:rate", "draw_map:target_gap"}
        | PUBLISH,
    ),
    # The grid changes every cell: all but reading the boundaries and checking the rasters.
    "analysis resolution": (_set("analysis", "resolution_m", 90), EVERYTHING - {"prepare_boundaries", "validate_year"}),
    # Counting on the erosion raster's own grid instead: the same.
    "source grid": (_set("analysis", "grid", "source"), EVERYTHING - {"prepare_boundaries", "validate_year"}),
    # Words on maps, workbook, report, chart, GeoPackage styles and the rasters' class names; no number changes.
    "publishing language": (
        _set("publish", "lang", "en"),
        MAPS | PUBLISH | SUMMARY | {"mosaic_grade", "mosaic_landcover"},
    ),
    # The region's row of the rates table and what prints it.
    "region name": (_set("region", "name", "两县合计"), RATES | PROCESS_TABLE | TARGETS | SUMMARY | MAPS | PUBLISH),
    "one target value": (
        _edit_csv("targets.csv", 0, "target_2025", "77.5"),
        TARGETS | SUMMARY | {"draw_map:target_gap"} | PUBLISH,
    ),
    # Class names reach the land-use table, the land-cover raster's categories and what prints them.
    "one legend name": (
        _edit_csv("legend.csv", 2, "name_zh", "有林地"),
        LANDCOVER_TABLE | {"mosaic_landcover", "draw_map:landcover", "workbook", "year_report"},
    ),
    # The coverage rule gates the year: its check reruns, and what the gate lets through is redone;
    # boundaries and grids do not depend on it, nor does counting (it runs beside the checks and the
    # gate is the gather of its table).
    "minimum coverage": (_set("validation", "min_coverage_pct", 98), EVERYTHING - PREPARE - {"crosstab"}),
    # The unit check judges the values the counting pass found (gather_crosstab, the gate of the year's table):
    # the judgement and what comes from the table are redone; no raster is read again, no raster rewritten.
    "unit check": (
        _set("validation", "unit_check", "warn"),
        {"gather_crosstab"}
        | LANDCOVER_TABLE
        | PROCESS_TABLE
        | RATES
        | TARGETS
        | SUMMARY
        | {"draw_map:rate", "draw_map:target_gap"}
        | PUBLISH,
    ),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_a_config_edit_reruns_exactly_what_depends_on_it(finished, tmp_path, edit):
    change, expected = EDITS[edit]
    assert _scheduled(_edit(finished, tmp_path, change)) == expected
