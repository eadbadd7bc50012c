# SL 190 grades with each county's T, then the county × land cover × grade areas.


rule grade:
    input:
        erosion="results/{year}/aligned/erosion_t_km2.tif",
        source=erosion_input,
        counties="results/common/counties.gpkg",
        grid="results/common/grid.json",
    output:
        grade="results/{year}/erosion_grade.tif",
    log:
        "logs/{year}/grade.log",
    benchmark:
        "results/benchmarks/{year}/grade.tsv"
    conda:
        SWC_ENV
    resources:
        mem_mb=2000,
    script:
        "../scripts/grade.py"


rule crosstab:
    input:
        landcover="results/{year}/aligned/landcover.tif",
        grade="results/{year}/erosion_grade.tif",
        counties="results/common/counties.gpkg",
        grid="results/common/grid.json",
        legend=config["landcover_legend"],
    output:
        crosstab="results/{year}/crosstab.nc",
        table="results/{year}/erosion_by_landcover.csv",
    log:
        "logs/{year}/crosstab.log",
    benchmark:
        "results/benchmarks/{year}/crosstab.tsv"
    conda:
        SWC_ENV
    threads: 2
    resources:
        mem_mb=1000,
    script:
        "../scripts/crosstab.py"
