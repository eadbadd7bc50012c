"""Rule gather_crosstab: the batches' cross-tabs joined for the whole region."""

from swc_raster.logs import logged
from swc_raster.stages import gather_crosstab

with logged(snakemake.log[0]):
    gather_crosstab(
        list(snakemake.input.crosstabs), counties_gpkg=snakemake.input.counties, out_crosstab=snakemake.output.crosstab
    )
