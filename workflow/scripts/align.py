"""Rule align: one year's land cover and erosion onto the analysis grid."""

from swc_raster.logs import logged
from swc_raster.pipeline import align_year

with logged(snakemake.log[0]) as log:
    entry = {"landcover": snakemake.input.landcover, "erosion": snakemake.input.erosion,
             "erosion_unit": snakemake.params.erosion_unit}
    methods = align_year(snakemake.config, entry, snakemake.input.grid, snakemake.output.landcover,
                         snakemake.output.erosion)
    log.info("resampling used: %s", methods)
