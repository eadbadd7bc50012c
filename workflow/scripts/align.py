"""Rule align: one year's land cover and erosion onto the batch's analysis grid."""

from swc_raster.logs import logged
from swc_raster.stages import align

i, o = snakemake.input, snakemake.output
with logged(snakemake.log[0]) as log:
    methods = align(
        i.landcover, i.erosion, grid_json=i.grid, **snakemake.params, out_landcover=o.landcover, out_erosion=o.erosion
    )
    log.info("resampling used: %s", methods)
