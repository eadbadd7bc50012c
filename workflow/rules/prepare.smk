# Boundaries: validate, repair, project to the analysis CRS; define the analysis grid.


rule prepare_boundaries:
    input:
        boundaries=config["boundaries"]["path"],
    output:
        counties="results/common/counties.gpkg",
        grid="results/common/grid.json",
        zones="results/common/zones.tif",
    log:
        "logs/prepare_boundaries.log",
    conda:
        SWC_ENV
    script:
        "../scripts/prepare_boundaries.py"
