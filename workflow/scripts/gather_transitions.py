"""Rule gather_transitions: the batches' transition tables stacked and change maps joined into one COG."""

from swc_raster.logs import logged
from swc_raster.stages import gather_transitions

w = snakemake.wildcards
with logged(snakemake.log[0]):
    gather_transitions(
        list(snakemake.input.tables),
        list(snakemake.input.rasters),
        year_from=int(w.year_from),
        year_to=int(w.year_to),
        **snakemake.params,
        out_csv=snakemake.output.table,
        out_map=snakemake.output.raster,
    )
