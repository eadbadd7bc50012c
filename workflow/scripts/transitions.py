"""Rule transitions: grade transition matrix per county and the change map between two years (one batch)."""

from swc_raster.logs import logged
from swc_raster.stages import transitions

i, w = snakemake.input, snakemake.wildcards
with logged(snakemake.log[0]):
    transitions(
        i.grade_from,
        i.grade_to,
        zones_tif=i.zones,
        counties_gpkg=i.counties,
        year_from=int(w.year_from),
        year_to=int(w.year_to),
        **snakemake.params,
        out_csv=snakemake.output.table,
        out_map=snakemake.output.change_map,
    )
