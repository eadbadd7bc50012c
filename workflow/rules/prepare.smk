# Boundaries: validate, repair, project to the analysis CRS; one grid per batch of counties.


rule prepare_boundaries:
    input:
        boundaries=SETTINGS.boundaries.path,
    output:
        counties="results/common/counties.gpkg",
    log:
        "logs/prepare_boundaries.log",
    benchmark:
        "results/benchmarks/prepare_boundaries/all.tsv"
    conda:
        SWC_ENV
    params:
        layer=SETTINGS.boundaries.layer,
        code_field=SETTINGS.boundaries.code_field,
        name_field=SETTINGS.boundaries.name_field,
        name_en_field=SETTINGS.boundaries.name_en_field,
        analysis_crs=SETTINGS.analysis.crs,
    script:
        "../scripts/prepare_boundaries.py"


# The batch's counties in the grid's CRS and its grid: with analysis.grid = source the lattice of
# the reference erosion raster (an input file), else the equal-area CRS at resolution_m.
rule prepare_batch:
    input:
        unpack(grid_inputs),
    output:
        counties="results/common/{batch}/counties.gpkg",
        grid="results/common/{batch}/grid.json",
    log:
        "logs/prepare_batch/{batch}.log",
    benchmark:
        "results/benchmarks/prepare_batch/{batch}.tsv"
    conda:
        SWC_ENV
    params:
        codes=batch_codes,
        analysis_crs=SETTINGS.analysis.crs,
        resolution_m=GRID_RESOLUTION_M,
        analysis_grid=ANALYSIS_GRID,
    script:
        "../scripts/prepare_batch.py"


# Each cell's county (pixel centre), only for the grade transition tables.
rule batch_zones:
    input:
        counties="results/common/{batch}/counties.gpkg",
        grid="results/common/{batch}/grid.json",
    output:
        zones="results/common/{batch}/zones.tif",
    log:
        "logs/batch_zones/{batch}.log",
    benchmark:
        "results/benchmarks/batch_zones/{batch}.tsv"
    conda:
        SWC_ENV
    resources:
        runtime=runtime_min_for,
    script:
        "../scripts/batch_zones.py"
