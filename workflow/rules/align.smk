# Both rasters of a year onto the batch's part of the one equal-area analysis grid.


rule align:
    input:
        landcover=landcover_input,
        erosion=erosion_input,
        grid="results/common/{batch}/grid.json",
    output:
        landcover=temp("results/{year}/{batch}/aligned/landcover.tif"),
        erosion=temp("results/{year}/{batch}/aligned/erosion_t_km2.tif"),
    log:
        "logs/{year}/{batch}/align.log",
    benchmark:
        "results/benchmarks/{year}/{batch}/align.tsv"
    conda:
        SWC_ENV
    resources:
        mem_mb=mem_mb_for,
        runtime=runtime_min_for,
    params:
        erosion_unit=erosion_unit,
    script:
        "../scripts/align.py"
