"""Rule prepare_batch: one batch's counties (in the grid's CRS) and its analysis grid."""

from swc_raster.logs import logged
from swc_raster.stages import prepare_batch

i, o = snakemake.input, snakemake.output
with logged(snakemake.log[0]):
    prepare_batch(
        i.counties, **snakemake.params, grid_source=i.get("grid_source"), out_gpkg=o.counties, out_grid=o.grid
    )
