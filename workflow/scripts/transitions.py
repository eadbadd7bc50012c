"""Rule transitions: grade transition matrix per county and the change map between two years."""

from swc_raster.logs import logged
from swc_raster.pipeline import transitions_between

w = snakemake.wildcards
with logged(snakemake.log[0]):
    transitions_between(snakemake.input.grade_from, snakemake.input.grade_to, snakemake.input.zones,
                        snakemake.input.counties, int(w.year_from), int(w.year_to), snakemake.output.table,
                        snakemake.output.change_map)
