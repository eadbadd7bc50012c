# Shared helpers: config validation at parse time, year lookup, output lists.

import os
import sys
from pathlib import Path

from snakemake.utils import validate

# Rule scripts import the swc_raster library shipped beside this workflow, also
# inside a Snakemake-made conda environment or on a cluster node.
_REPO = str(Path(workflow.basedir).resolve())
sys.path.insert(0, _REPO)
# (We set the variable; nothing here requires the user to define it.)
os.environ.update(
    PYTHONPATH=os.pathsep.join(p for p in (_REPO, os.environ.get("PYTHONPATH")) if p)
)
# GDAL's block cache defaults to 5 % of the machine's RAM (12 GB on a 256 GB node), far above
# the mem_mb the rules declare; every rule works window by window and needs little cache.
# A value the user sets wins.
os.environ.setdefault("GDAL_CACHEMAX", "256")
# One software environment for every rule: the same list as pyproject.toml.
SWC_ENV = str(Path(_REPO) / "environment.yml")

from swc_raster.batches import plan
from swc_raster.config import Settings, validate_config
from swc_raster.errors import ValidationFailed
from swc_raster.legend import legend_path, read_legend
from swc_raster.method import method_record
from swc_raster.stages import MAP_KINDS
from swc_raster.validate import check_header

# The config, checked once against the package's schema (every problem with the key's
# place, e.g. years[2].erosion_unit) and typed. Rules get plain values from SETTINGS as
# params: or input files, never the config dict.
validate_config(config)
SETTINGS = Settings.from_config(config)
YEARS = SETTINGS.years
YEAR_LABELS = [str(y) for y in YEARS]
# Years whose erosion modulus the CSLE branch computes (rule csle_erosion).
CSLE_YEARS = [str(y) for y, inputs in YEARS.items() if inputs.is_csle]
# Years delivered as polygons (counted by vector_crosstab): no rasters, so no grade or land-cover map.
VECTOR_YEARS = [str(y) for y, inputs in YEARS.items() if inputs.is_vector]
# Years whose erosion is a modulus raster (delivered or CSLE): the ones a T-sensitivity table can be counted for.
# (A graded erosion raster has no modulus either: its T sensitivity cannot be counted.)
SENSITIVITY_YEARS = [str(y) for y, i in YEARS.items() if not (i.is_vector or i.is_graded)]
# Years with a wind-erosion layer beside water erosion: their by-process table needs its own count.
WIND_YEARS = [str(y) for y, inputs in YEARS.items() if inputs.has_wind]

# Rasters that a rule of this workflow makes (the demo) are not checked before they exist.
DEMO_INPUT = "resources/demo/{year}/{kind}.tif"
# The demo's CSLE factor rasters, made by the demo_factors rule; `csle:` key → file kind.
DEMO_FACTOR_KINDS = {"dem": "dem", "r": "R", "k": "K", "fvc": "fvc", "e": "E"}
GENERATED = [
    path
    for y in YEARS.values()
    for kind, path in (("landcover", y.landcover), ("erosion", y.erosion))
    if path == DEMO_INPUT.format(year=y.year, kind=kind)
] + [
    path
    for y in YEARS.values()
    for key, kind in DEMO_FACTOR_KINDS.items()
    if (path := (y.csle or {}).get(key)) == DEMO_INPUT.format(year=y.year, kind=kind)
] + [
    path
    for y in YEARS.values()
    if y.is_vector
    for key, name in (
        ("erosion_patches", "erosion_patches.gpkg"),
        ("landuse_polygons", "landuse.gpkg"),
    )
    if (path := getattr(y, key)["path"]) == f"resources/demo/{y.year}/{name}"
]
# Cheap checks of every input (files open, CRSs, units, targets vs boundaries), all
# reported together before any job runs.
_problems = check_header(config, Path.cwd(), generated=GENERATED)
if _problems:
    raise ValidationFailed(_problems)

# The legend's codes are what counting and validation depend on; its names only reach
# the tables and maps that print them (input files there), so a renamed class redoes no count.
# The legend as a file: the configured CSV, or the shipped table of a named product (e.g. `clcd`).
LEGEND_CSV = str(legend_path(SETTINGS.landcover_legend))
LEGEND_CODES = read_legend(LEGEND_CSV).codes
BATCHES = plan(
    SETTINGS.boundaries,
    SETTINGS.split,
    SETTINGS.analysis.crs,
    SETTINGS.analysis.resolution_m,
)  # independent jobs; raises with advice when one would be too big
COUNTY_CODES = sorted(code for batch in BATCHES.values() for code in batch.codes)
T_BY_COUNTY = {code: SETTINGS.allowable_loss.t_for(code) for code in COUNTY_CODES}
# Alternative T values (ascending) at which every county's rate is also reported, counted in the same pass.
T_SENSITIVITY = list(SETTINGS.allowable_loss.sensitivity_t_km2)
BOUNDARY_SETTINGS = {
    "path": SETTINGS.boundaries.path,
    "layer": SETTINGS.boundaries.layer,
    "code_field": SETTINGS.boundaries.code_field,
    "name_field": SETTINGS.boundaries.name_field,
    "name_en_field": SETTINGS.boundaries.name_en_field,
}
VALIDATION_RULES = {
    "min_coverage_pct": SETTINGS.validation.min_coverage_pct,
    "unit_check": SETTINGS.validation.unit_check,
    "overlap_tolerance_pct": SETTINGS.validation.overlap_tolerance_pct,
}
LANG = SETTINGS.publish.lang
REGION_LABEL = SETTINGS.region.label(LANG)


wildcard_constraints:
    year="|".join(YEAR_LABELS),
    batch="|".join(BATCHES),


def batch_files(pattern):
    """One input per batch, for gather steps (``pattern`` may hold other wildcards)."""

    def inputs(wildcards):
        return expand(pattern, batch=list(BATCHES), allow_missing=True, **wildcards)

    return inputs


def batch_of(wildcards):
    """The job's batch."""
    return wildcards.batch


def batch_codes(wildcards):
    return list(BATCHES[batch_of(wildcards)].codes)


# Declared resources. Memory is bounded by the processing window, not by the grid, so
# it is a fixed budget, doubled on each retry (--retries) after a job was killed for
# memory; runtime scales with the batch's cell count and with the attempt (rough costs
# on one core: ~0.05 µs per cell to read, resample, grade and count; ~0.2 µs to write a raster).
def mem_mb(base):
    """A rule's memory (MB): ``base`` on the first attempt, ``base × attempt`` on retries."""

    def mem_mb_of(wildcards, attempt):
        return base * attempt

    return mem_mb_of


def runtime_min_for(wildcards, attempt):
    cells = BATCHES[batch_of(wildcards)].cells
    return max(5, int(attempt * cells * 0.3e-6 / 60) + 5)


# The analysis grid (analysis.grid): "source" counts on the lattice of one erosion raster (the
# first year's that is a delivered file, else the first CSLE year's A raster), declared as an input
# of prepare_batch; its resolution is then the raster's, so resolution_m is not a parameter.
def _grid_reference():
    if SETTINGS.analysis.grid != "source":
        return None
    rasters = [y for y in sorted(YEARS) if not YEARS[y].is_vector]  # polygon years have no raster
    files = [y for y in rasters if not YEARS[y].is_csle]
    return YEARS[(files or rasters)[0]].erosion if rasters else None


GRID_REFERENCE = _grid_reference()
# Without a raster year (only polygon years) the batches keep the equal-area grid.
ANALYSIS_GRID = "source" if GRID_REFERENCE else "equal_area"
GRID_RESOLUTION_M = None if GRID_REFERENCE else SETTINGS.analysis.resolution_m


def grid_inputs(wildcards):
    """prepare_batch's input files: the prepared counties and, on a source grid, the raster that defines it."""
    inputs = {"counties": "results/common/counties.gpkg"}
    if GRID_REFERENCE:
        inputs["grid_source"] = GRID_REFERENCE
    return inputs


def t_of_batch(wildcards):
    """T (t/(km²·a)) of each county of the batch: what grading depends on."""
    return {code: T_BY_COUNTY[code] for code in BATCHES[batch_of(wildcards)].codes}


def year_entry(wildcards):
    """The year's rasters, units and grade tables as plain values (a CSLE year: the branch's A)."""
    y = YEARS[int(wildcards.year)]
    entry = {
        "year": y.year,
        "landcover": y.landcover,
        "erosion": y.erosion,
        "erosion_unit": y.erosion_unit,
    }
    for key in ("erosion_grades", "wind_erosion", "wind_erosion_unit", "wind_erosion_grades"):
        value = getattr(y, key)
        if value is not None:
            entry[key] = dict(value) if key.endswith("_grades") else value
    return entry


def year_validation_rules(wildcards):
    """The checks' thresholds validate_year uses: the unit check only where it reads the values (erosion layers)."""
    keys = ["min_coverage_pct", "overlap_tolerance_pct"]
    if YEARS[int(wildcards.year)].has_layers:
        keys.append("unit_check")
    return {key: VALIDATION_RULES[key] for key in keys}


def erosion_layers_of(wildcards):
    """The year's erosion layers (a graded raster, or water and wind) as plain values; None for one modulus raster."""
    y = YEARS[int(wildcards.year)]
    if not y.has_layers:
        return None
    return [layer.params() for layer in y.erosion_layers(SETTINGS.wind_thresholds_t_km2)]


def wind_input(wildcards):
    """The year's wind-erosion raster, if it has one (an input, so that a new file reruns the counts)."""
    wind = YEARS[int(wildcards.year)].wind_erosion
    return [wind] if wind else []


def process_input(wildcards):
    """A wind year's county × wind grade × water grade table (water-only years need none)."""
    y = wildcards.year
    return {"process": f"results/{y}/process_crosstab.nc"} if y in WIND_YEARS else {}


def csle_entry(wildcards):
    """A CSLE year's land cover and ``csle:`` block (every value the branch uses)."""
    y = YEARS[int(wildcards.year)]
    return {"year": y.year, "landcover": y.landcover, "csle": dict(y.csle)}


def year_method(wildcards):
    """The method record of the year (every parameter behind its numbers)."""
    return method_record(SETTINGS, int(wildcards.year), COUNTY_CODES)


def landcover_input(wildcards):
    return YEARS[int(wildcards.year)].landcover


def erosion_input(wildcards):
    """The year's erosion raster; for a CSLE year results/{year}/csle/A_t_km2.tif."""
    return YEARS[int(wildcards.year)].erosion


def csle_inputs(wildcards):
    """The files a CSLE year reads: land cover, DEM, R/K/cover/E rasters, factor table."""
    block = YEARS[int(wildcards.year)].csle
    inputs = {
        "landcover": landcover_input(wildcards),
        "dem": block["dem"],
        "factor_table": block["factor_table"],
        "counties": "results/common/counties.gpkg",
        "boundaries": SETTINGS.boundaries.path,
    }
    for key in ("r", "k", "fvc", "ndvi", "e"):
        value = block.get(key)
        if isinstance(value, str) and not _is_number(value):  # R and K may be constants
            inputs[key] = value
    return inputs


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def has_rasters(year):
    """A year given as rasters (not as polygons) has a grade raster and raster maps."""
    return str(year) not in VECTOR_YEARS


def has_sensitivity(year):
    """A raster year with a modulus gets t_sensitivity.csv when alternative T values are configured."""
    return bool(T_SENSITIVITY) and str(year) in SENSITIVITY_YEARS


def map_kinds(year):
    return MAP_KINDS if has_rasters(year) else ("rate", "target_gap")


def year_outputs(year):
    return [
        f"results/{year}/county_rates.csv",
        f"results/{year}/erosion_by_landcover.csv",
        f"results/{year}/erosion_by_process.csv",
        f"results/{year}/target_comparison.csv",
        *([f"results/{year}/erosion_grade.tif"] if has_rasters(year) else []),
        *([f"results/{year}/t_sensitivity.csv"] if has_sensitivity(year) else []),
        f"results/{year}/swc_tables.xlsx",
        f"results/{year}/counties.gpkg",
        f"results/{year}/report.html",
        *[
            f"results/{year}/maps/{kind}.{ext}"
            for kind in map_kinds(year)
            for ext in ("png", "pdf")
        ],
    ]


def vector_block(key):
    """A polygon year's `erosion_patches` or `landuse_polygons` block, as a plain dict."""

    def block(wildcards):
        return dict(getattr(YEARS[int(wildcards.year)], key))

    return block


def vector_inputs(wildcards):
    """The files a polygon year reads: its two layers, a code-map CSV if one is named, the counties."""
    y = YEARS[int(wildcards.year)]
    inputs = {
        "counties": "results/common/counties.gpkg",
        "patches": y.erosion_patches["path"],
        "landuse": y.landuse_polygons["path"],
    }
    code_map = y.landuse_polygons.get("code_map")
    if code_map and Path(code_map).suffix.lower() == ".csv":
        inputs["code_map"] = code_map
    return inputs


def map_inputs(wildcards):
    """Each map reads only what it draws."""
    y = wildcards.year
    inputs = {"counties": "results/common/counties.gpkg"}
    inputs |= {
        "rate": {"rates": f"results/{y}/county_rates.csv"},
        "target_gap": {"comparison": f"results/{y}/target_comparison.csv"},
        "grade": {"grade": f"results/{y}/erosion_grade.tif"},
        "landcover": {
            "landcover": f"results/{y}/landcover.tif",
            "legend": LEGEND_CSV,
        },
    }[wildcards.kind]
    return inputs


def report_inputs(wildcards):
    """The year's tables and maps; the latest year's report also gets the multi-year section."""
    y = wildcards.year
    inputs = {
        "rates": f"results/{y}/county_rates.csv",
        "comparison": f"results/{y}/target_comparison.csv",
        "long": f"results/{y}/erosion_by_landcover.csv",
        "erosion_by_process": f"results/{y}/erosion_by_process.csv",
        **{f"map_{kind}": f"results/{y}/maps/{kind}.png" for kind in map_kinds(y)},
    }
    if has_sensitivity(y):
        inputs["t_sensitivity"] = f"results/{y}/t_sensitivity.csv"
    # The interactive county map: every monitored year up to this one, with its grade raster.
    inputs["counties"] = "results/common/counties.gpkg"
    for year in (label for label in YEAR_LABELS if int(label) <= int(y)):
        inputs |= {
            f"onemap_rates_{year}": f"results/{year}/county_rates.csv",
            f"onemap_comparison_{year}": f"results/{year}/target_comparison.csv",
        }
        if has_rasters(year):
            inputs[f"onemap_grade_{year}"] = f"results/{year}/erosion_grade.tif"
    if int(y) == max(YEARS) and len(YEARS) > 1:
        inputs |= {
            "rates_by_year": "results/summary/rates_by_year.csv",
            "progress": "results/summary/progress.csv",
            "progress_chart": "results/summary/progress_by_county.png",
        }
    return inputs


def summary_outputs():
    """Multi-year outputs: tables and chart always; transitions between consecutive years."""
    years = sorted(YEARS)
    pairs = [
        f"results/summary/{kind}_{a}_{b}.{ext}"
        for a, b in zip(years, years[1:])
        if has_rasters(a) and has_rasters(b)
        for kind, ext in (("transitions", "csv"), ("change", "tif"))
    ]
    return [
        "results/summary/rates_by_year.csv",
        "results/summary/changes.csv",
        "results/summary/progress.csv",
        "results/summary/progress_by_county.png",
        *pairs,
    ]


def all_outputs():
    return [
        path for year in YEAR_LABELS for path in year_outputs(year)
    ] + summary_outputs()


def erosion_unit(wildcards):
    """The unit of the year's erosion raster; t/km2/a for a CSLE year."""
    return YEARS[int(wildcards.year)].erosion_unit
