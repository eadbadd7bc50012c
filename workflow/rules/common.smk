# Shared helpers: config validation at parse time, year lookup, output lists.

from pathlib import Path

from snakemake.utils import validate

from swc_raster.config import year_inputs

validate(config, "../schemas/config.schema.yaml")

YEARS = year_inputs(config)  # raises a clear error on repeated years or missing inputs
YEAR_LABELS = [str(y) for y in YEARS]


wildcard_constraints:
    year="|".join(YEAR_LABELS),


def year_entry(year):
    """The config entry of one year as a dict (inputs and declared unit)."""
    y = YEARS[int(year)]
    return {"landcover": y.landcover, "erosion": y.erosion, "erosion_unit": y.erosion_unit}


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


def all_outputs():
    return [path for year in YEAR_LABELS for path in year_outputs(year)]


def erosion_unit(wildcards):
    return YEARS[int(wildcards.year)].erosion_unit
