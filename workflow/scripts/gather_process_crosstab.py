"""Rule gather_process_crosstab: the batches' by-process counts joined for the year."""

from swc_raster.logs import logged
from swc_raster.stages import gather_process_crosstab

i = snakemake.input
with logged(snakemake.log[0]):
    gather_process_crosstab(i.crosstabs, counties_gpkg=i.counties, out_crosstab=snakemake.output.crosstab)
