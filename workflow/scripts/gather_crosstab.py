"""Rule gather_crosstab: the batches' cross-tabs joined for the whole region, once their value checks pass."""

from swc_raster.logs import logged
from swc_raster.stages import gather_crosstab

with logged(snakemake.log[0]) as log:
    found = gather_crosstab(
        list(snakemake.input.crosstabs),
        counties_gpkg=snakemake.input.counties,
        out_crosstab=snakemake.output.crosstab,
        value_checks=list(snakemake.input.value_checks),
        **snakemake.params,
        out_value_checks=snakemake.output.value_checks,
    )
    for warning in found:
        log.warning("%s", warning)
