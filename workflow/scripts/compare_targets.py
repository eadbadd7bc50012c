"""Rule compare_targets: each county's and the region's rate against the plan's targets."""

from swc_raster.logs import logged
from swc_raster.pipeline import compare_year

with logged(snakemake.log[0]):
    compare_year(snakemake.config, snakemake.input.rates, snakemake.input.counties, snakemake.output.comparison)
