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
from swc_raster.config import resolve_csle_erosion, year_inputs
from swc_raster.errors import ValidationFailed
from swc_raster.pipeline import MAP_KINDS
from swc_raster.validate import check_header

validate(config, "../schemas/config.schema.yaml")

# Rasters that a rule of this workflow makes (the demo) are not checked before they exist.
DEMO_INPUT = "resources/demo/{year}/{kind}.tif"
# The demo's CSLE factor rasters, made by the demo_factors rule; `csle:` key → file kind.
DEMO_FACTOR_KINDS = {"dem": "dem", "r": "R", "k": "K", "fvc": "fvc", "e": "E"}
GENERATED = [
    path
    for entry in config["years"]
    for kind in ("landcover", "erosion")
    if (path := entry.get(kind)) == DEMO_INPUT.format(year=entry["year"], kind=kind)
] + [
    path
    for entry in config["years"]
    for key, kind in DEMO_FACTOR_KINDS.items()
    if (path := (entry.get("csle") or {}).get(key))
    == DEMO_INPUT.format(year=entry["year"], kind=kind)
]
# Cheap checks of every input (files open, CRSs, units, targets vs boundaries), all
# reported together before any job runs.
_problems = check_header(config, Path.cwd(), generated=GENERATED)
if _problems:
    raise ValidationFailed(_problems)

YEARS = year_inputs(config)
YEAR_LABELS = [str(y) for y in YEARS]
# Years whose erosion modulus the CSLE branch computes (rule csle_erosion); their
# `erosion`/`erosion_unit` become the branch's output for every later stage.
CSLE_YEARS = [str(y) for y, inputs in YEARS.items() if inputs.is_csle]
resolve_csle_erosion(config)
BATCHES = plan(config)  # independent jobs; raises with advice when one would be too big


wildcard_constraints:
    year="|".join(YEAR_LABELS),
    batch="|".join(BATCHES),


def batch_files(pattern):
    """One input per batch, for gather steps (``pattern`` may hold other wildcards)."""

    def inputs(wildcards):
        return expand(pattern, batch=list(BATCHES), allow_missing=True, **wildcards)

    return inputs


def batch_codes(wildcards):
    return list(BATCHES[wildcards.batch].codes)


# Declared resources. Memory is bounded by the processing window, not by the grid, so
# it is a fixed budget; runtime scales with the batch's cell count (rough costs on one
# core: ~0.2 µs per cell to warp and write, ~0.05 µs per cell to grade or count).
def mem_mb_for(wildcards):
    return 2000


def runtime_min_for(wildcards, attempt):
    cells = BATCHES[wildcards.batch].cells
    return max(5, int(attempt * cells * 0.3e-6 / 60) + 5)


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
        "factor_table": block.get("factor_table", "config/csle_factors.csv"),
        "counties": "results/common/counties.gpkg",
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


def year_outputs(year):
    return [
        f"results/{year}/county_rates.csv",
        f"results/{year}/erosion_by_landcover.csv",
        f"results/{year}/target_comparison.csv",
        f"results/{year}/erosion_grade.tif",
        f"results/{year}/swc_tables.xlsx",
        f"results/{year}/counties.gpkg",
        f"results/{year}/report.html",
        *[
            f"results/{year}/maps/{kind}.{ext}"
            for kind in MAP_KINDS
            for ext in ("png", "pdf")
        ],
    ]


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
            "legend": config["landcover_legend"],
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
        "counties": "results/common/counties.gpkg",
        **{f"map_{kind}": f"results/{y}/maps/{kind}.png" for kind in MAP_KINDS},
    }
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
