"""Rule county_rates: county and region soil and water conservation rates of one year."""

from swc_raster.logs import logged
from swc_raster.stages import county_rates

with logged(snakemake.log[0]):
    county_rates(
        snakemake.input.crosstab,
        year=int(snakemake.wildcards.year),
        counties_gpkg=snakemake.input.counties,
        **snakemake.params,
        out_csv=snakemake.output.rates,
    )
