"""Rule rates: county and region soil and water conservation rates of one year."""

from swc_raster.logs import logged
from swc_raster.pipeline import rates_year

with logged(snakemake.log[0]):
    rates_year(snakemake.config, int(snakemake.wildcards.year), snakemake.input.crosstab, snakemake.input.counties,
               snakemake.output.rates)
