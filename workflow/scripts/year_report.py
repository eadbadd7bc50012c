"""Rule year_report: the self-contained HTML assessment report of one year."""

from swc_raster.logs import logged
from swc_raster.pipeline import MAP_KINDS, write_year_report

i = dict(snakemake.input.items())
multi_year = None
if "progress" in i:
    multi_year = {"rates_by_year": i["rates_by_year"], "progress": i["progress"],
                  "charts": {"各县水土保持率逐年变化与目标": i["progress_chart"]}}
with logged(snakemake.log[0]):
    write_year_report(snakemake.config, int(snakemake.wildcards.year), i, {k: i[f"map_{k}"] for k in MAP_KINDS},
                      snakemake.output.html, multi_year)
