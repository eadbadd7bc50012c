"""Rule vector_crosstab: a polygon year's county × land cover × grade areas by exact overlay."""

from swc_raster.logs import logged
from swc_raster.stages import vector_crosstab

with logged(snakemake.log[0]):
    vector_crosstab(
        snakemake.input.counties,
        **snakemake.params,
        out_crosstab=snakemake.output.crosstab,
        out_notes=snakemake.output.notes,
    )
