"""Rule t_sensitivity: each county's rate at each alternative T, from the counts of the crosstab rule."""

from swc_raster.logs import logged
from swc_raster.stages import t_sensitivity

with logged(snakemake.log[0]):
    t_sensitivity(
        list(snakemake.input.sensitivity),
        snakemake.input.crosstab,
        year=int(snakemake.wildcards.year),
        counties_gpkg=snakemake.input.counties,
        **snakemake.params,
        out_csv=snakemake.output.table,
    )
