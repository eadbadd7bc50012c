"""Rule csle_erosion: one year's CSLE factors and erosion modulus A from its `csle:` inputs."""

from swc_raster.logs import logged
from swc_raster.stages import csle_erosion

with logged(snakemake.log[0]) as log:
    outputs = {key: snakemake.output[key] for key in ("R", "K", "LS", "B", "E", "T", "A", "means")}
    summary = csle_erosion(**snakemake.params, counties_gpkg=snakemake.input.counties, outputs=outputs, log=log)
    log.info("CSLE branch done: %s", summary)
