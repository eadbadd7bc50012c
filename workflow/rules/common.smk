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
# One software environment for every rule: the same list as pyproject.toml.
SWC_ENV = str(Path(_REPO) / "environment.yml")

from swc_raster.config import year_inputs

validate(config, "../schemas/config.schema.yaml")

YEARS = year_inputs(config)  # raises a clear error on repeated years or missing inputs
YEAR_LABELS = [str(y) for y in YEARS]


wildcard_constraints:
    year="|".join(YEAR_LABELS),


def landcover_input(wildcards):
    return YEARS[int(wildcards.year)].landcover


def erosion_input(wildcards):
    return YEARS[int(wildcards.year)].erosion


def year_outputs(year):
    return [
        f"results/{year}/county_rates.csv",
        f"results/{year}/erosion_by_landcover.csv",
        f"results/{year}/target_comparison.csv",
        f"results/{year}/erosion_grade.tif",
    ]


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
    return YEARS[int(wildcards.year)].erosion_unit
