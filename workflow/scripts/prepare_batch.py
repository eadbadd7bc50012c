"""Rule prepare_batch: one batch's counties, analysis grid and zone raster."""

from swc_raster.logs import logged
from swc_raster.pipeline import prepare_batch

with logged(snakemake.log[0]):
    prepare_batch(snakemake.config, snakemake.input.counties, snakemake.params.codes, snakemake.output.counties,
                  snakemake.output.grid, snakemake.output.zones)
