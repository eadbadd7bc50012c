"""Rule workbook: the year's bulletin tables as an Excel workbook."""

from swc_raster.logs import logged
from swc_raster.pipeline import write_year_tables

i = snakemake.input
with logged(snakemake.log[0]):
    write_year_tables(snakemake.config, int(snakemake.wildcards.year), i.rates, i.comparison, i.long, i.counties,
                      snakemake.output.xlsx)
