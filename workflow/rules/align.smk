# Both rasters of a year onto the one equal-area analysis grid.


rule align:
    input:
        landcover=landcover_input,
        erosion=erosion_input,
        grid="results/common/grid.json",
    output:
        landcover="results/{year}/aligned/landcover.tif",
        erosion="results/{year}/aligned/erosion_t_km2.tif",
    params:
        erosion_unit=erosion_unit,
    log:
        "logs/{year}/align.log",
    benchmark:
        "results/benchmarks/{year}/align.tsv"
    resources:
        mem_mb=2000,
    script:
        "../scripts/align.py"
