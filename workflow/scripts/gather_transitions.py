"""Rule gather_transitions: the batches' transition tables stacked and change maps mosaicked."""

from swc_raster.logs import logged
from swc_raster.pipeline import gather_transitions

with logged(snakemake.log[0]):
    gather_transitions(list(snakemake.input.tables), list(snakemake.input.rasters), snakemake.output.table,
                       snakemake.output.raster)
