"""Rule gather_crosstab: the batches' cross-tabs joined, and the long land-cover table."""

from swc_raster.logs import logged
from swc_raster.pipeline import gather_crosstabs

with logged(snakemake.log[0]):
    gather_crosstabs(snakemake.config, int(snakemake.wildcards.year), list(snakemake.input.crosstabs),
                     snakemake.input.counties, snakemake.output.crosstab, snakemake.output.table)
