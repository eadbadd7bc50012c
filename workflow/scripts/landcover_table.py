"""Rule landcover_table: erosion by land-cover class, with the legend's names (erosion_by_landcover.csv)."""

from swc_raster.logs import logged
from swc_raster.stages import landcover_table

i = snakemake.input
with logged(snakemake.log[0]):
    landcover_table(
        i.crosstab,
        year=int(snakemake.wildcards.year),
        counties_gpkg=i.counties,
        legend_csv=i.legend,
        **snakemake.params,
        out_csv=snakemake.output.table,
    )
