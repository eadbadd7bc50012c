"""Rule align: one year's land cover on the batch's grid (for the published land-cover raster)."""

from swc_raster.logs import logged
from swc_raster.stages import align

i, o = snakemake.input, snakemake.output
with logged(snakemake.log[0]) as log:
    methods = align(i.landcover, grid_json=i.grid, **snakemake.params, out_landcover=o.landcover)
    log.info("resampling used: %s", methods)
