"""Rule compare_targets: each county's and the region's rate against the plan's targets."""

from swc_raster.logs import logged
from swc_raster.stages import compare_targets

i = snakemake.input
with logged(snakemake.log[0]) as log:
    notes = compare_targets(
        i.rates,
        counties_gpkg=i.counties,
        targets_csv=i.targets,
        **snakemake.params,
        out_csv=snakemake.output.comparison,
    )
    for note in notes:
        log.warning("%s", note)
