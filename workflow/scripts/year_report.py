"""Rule year_report: the self-contained HTML assessment report of one year."""

from swc_raster.logs import logged
from swc_raster.pipeline import write_year_report

with logged(snakemake.log[0]):
    write_year_report(snakemake.config, int(snakemake.wildcards.year), dict(snakemake.input.items()),
                      snakemake.output.html)
