"""Rule validate_year: the checks of one year's rasters that need no pixel values; all problems reported together."""

from swc_raster.logs import logged
from swc_raster.stages import validate_year

with logged(snakemake.log[0]) as log:
    found = validate_year(**snakemake.params, out_json=snakemake.output.report, workers=snakemake.threads)
    for warning in found:
        log.warning("%s", warning)
