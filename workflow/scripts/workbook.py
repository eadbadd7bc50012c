"""Rule workbook: the year's bulletin tables as an Excel workbook."""

from swc_raster.logs import logged
from swc_raster.stages import workbook

i = snakemake.input
with logged(snakemake.log[0]):
    workbook(i.rates, i.comparison, i.long, process_csv=i.process, **snakemake.params, out_xlsx=snakemake.output.xlsx)
