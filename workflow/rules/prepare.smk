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


rule prepare_batch:
    input:
        counties="results/common/counties.gpkg",
    output:
        counties="results/common/{batch}/counties.gpkg",
        grid="results/common/{batch}/grid.json",
        zones="results/common/{batch}/zones.tif",
    log:
        "logs/prepare_batch/{batch}.log",
    benchmark:
        "results/benchmarks/prepare_batch/{batch}.tsv"
    conda:
        SWC_ENV
    resources:
        runtime=runtime_min_for,
    params:
        codes=batch_codes,
        analysis_crs=SETTINGS.analysis.crs,
        resolution_m=SETTINGS.analysis.resolution_m,
    script:
        "../scripts/prepare_batch.py"
