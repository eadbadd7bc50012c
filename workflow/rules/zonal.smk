# SL 190 grades with each county's T (the grade raster, for maps and GIS) and the county ×
# land cover × grade areas (the zonal engine grades the aligned modulus itself, so the two
# rules run side by side); per batch, then gathered for the whole region.


rule grade:
    input:
        erosion="results/{year}/{batch}/aligned/erosion_t_km2.tif",
        source=erosion_input,
        counties="results/common/{batch}/counties.gpkg",
        grid="results/common/{batch}/grid.json",
    output:
        grade="results/{year}/{batch}/erosion_grade.tif",
    log:
        "logs/{year}/{batch}/grade.log",
    benchmark:
        "results/benchmarks/grade/{year}/{batch}.tsv"
    conda:
        SWC_ENV
    resources:
        mem_mb=mem_mb_for,
        runtime=runtime_min_for,
    script:
        "../scripts/grade.py"


rule crosstab:
    input:
        landcover="results/{year}/{batch}/aligned/landcover.tif",
        erosion="results/{year}/{batch}/aligned/erosion_t_km2.tif",
        source=erosion_input,
        counties="results/common/{batch}/counties.gpkg",
        grid="results/common/{batch}/grid.json",
        legend=config["landcover_legend"],
    output:
        crosstab="results/{year}/{batch}/crosstab.nc",
    log:
        "logs/{year}/{batch}/crosstab.log",
    benchmark:
        "results/benchmarks/crosstab/{year}/{batch}.tsv"
    conda:
        SWC_ENV
    threads: 2
    resources:
        mem_mb=1000,
        runtime=runtime_min_for,
    script:
        "../scripts/crosstab.py"


rule gather_crosstab:
    input:
        crosstabs=batch_files("results/{year}/{batch}/crosstab.nc"),
        counties="results/common/counties.gpkg",
        legend=config["landcover_legend"],
    output:
        crosstab="results/{year}/crosstab.nc",
        table="results/{year}/erosion_by_landcover.csv",
    log:
        "logs/{year}/gather_crosstab.log",
    benchmark:
        "results/benchmarks/gather_crosstab/{year}.tsv"
    conda:
        SWC_ENV
    script:
        "../scripts/gather_crosstab.py"


rule mosaic_grade:
    input:
        rasters=batch_files("results/{year}/{batch}/erosion_grade.tif"),
    output:
        raster=report(
            "results/{year}/erosion_grade.tif",
            caption="../report/erosion_grade.rst",
            category="GIS",
            labels={"year": "{year}", "output": "erosion grade raster (COG)"},
        ),
    log:
        "logs/{year}/mosaic_grade.log",
    benchmark:
        "results/benchmarks/mosaic_grade/{year}.tsv"
    conda:
        SWC_ENV
    resources:
        mem_mb=2000,
    params:
        grade_cog=True,
    script:
        "../scripts/mosaic.py"
