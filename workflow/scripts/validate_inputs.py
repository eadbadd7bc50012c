"""Rule validate_inputs: every check of one year's inputs; all problems reported together."""

from swc_raster.logs import logged
from swc_raster.pipeline import validate_year

with logged(snakemake.log[0]):
    validate_year(snakemake.config, int(snakemake.wildcards.year), snakemake.output.report)
