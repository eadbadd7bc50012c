"""Rule crosstab: one batch's county × land cover × grade areas from the rasters as delivered, on all threads,
with the value checks of the cells it reads."""

from swc_raster.logs import logged
from swc_raster.stages import crosstab

i = snakemake.input
with logged(snakemake.log[0]):
    crosstab(
        i.landcover,
        i.erosion,
        counties_gpkg=i.counties,
        grid_json=i.grid,
        **snakemake.params,
        out_crosstab=snakemake.output.crosstab,
        out_sensitivity=snakemake.output.sensitivity,
        mem_mb=snakemake.resources.mem_mb,
        workers=snakemake.threads,
        out_value_checks=snakemake.output.value_checks,
    )
