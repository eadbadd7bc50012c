"""Rule prepare_batch: one batch's counties, analysis grid and zone raster."""

from swc_raster.logs import logged
from swc_raster.stages import prepare_batch

o = snakemake.output
with logged(snakemake.log[0]):
    prepare_batch(snakemake.input.counties, **snakemake.params, out_gpkg=o.counties, out_grid=o.grid, out_zones=o.zones)
