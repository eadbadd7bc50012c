# Both rasters of a year onto the one equal-area analysis grid.


rule align:
    input:
        landcover=landcover_input,
        erosion=erosion_input,
        grid="results/common/grid.json",
    output:
        landcover="results/{year}/aligned/landcover.tif",
        erosion="results/{year}/aligned/erosion_t_km2.tif",
    log:
        "logs/{year}/align.log",
    benchmark:
        "results/benchmarks/{year}/align.tsv"
    conda:
        SWC_ENV
    resources:
        mem_mb=2000,
    params:
        erosion_unit=erosion_unit,
    script:
        "../scripts/align.py"
