# SL 190 grades with each county's T and the county × land cover × grade areas, both read from
# the year's rasters as delivered (on the erosion raster's grid nothing is resampled; see
# docs/decisions/0001-alignment.md); per batch, then gathered for the whole region.  The grade
# raster is for maps and GIS only: the tables never wait for it.


rule grade:
    input:
        erosion=erosion_input,
        wind=wind_input,
        counties="results/common/{batch}/counties.gpkg",
        grid="results/common/{batch}/grid.json",
        validation="results/{year}/validation.json",
    output:
        grade="results/{year}/{batch}/erosion_grade.tif",
    log:
        "logs/{year}/{batch}/grade.log",
    benchmark:
        "results/benchmarks/grade/{year}/{batch}.tsv"
    conda:
        SWC_ENV
    resources:
        mem_mb=mem_mb(1000),
        runtime=runtime_min_for,
    params:
        t_by_county=t_of_batch,
        erosion_unit=erosion_unit,
        erosion_resampling=SETTINGS.analysis.erosion_resampling,
        erosion_layers=erosion_layers_of,
    script:
        "../scripts/grade.py"


# Counting does not wait for the year's checks (validate_year, which reads no pixel values): it
# checks the rasters' values on the cells it reads (value_checks.npz), and gather_crosstab, which
# makes the year's table every published number comes from, waits for both and judges the
# values — so every problem is still reported before any result.
rule crosstab:
    input:
        landcover=landcover_input,
        erosion=erosion_input,
        wind=wind_input,
        counties="results/common/{batch}/counties.gpkg",
        grid="results/common/{batch}/grid.json",
    output:
        crosstab="results/{year}/{batch}/crosstab.nc",
        sensitivity="results/{year}/{batch}/t_sensitivity_areas.csv",
        value_checks="results/{year}/{batch}/value_checks.npz",
    log:
        "logs/{year}/{batch}/crosstab.log",
    benchmark:
        "results/benchmarks/crosstab/{year}/{batch}.tsv"
    conda:
        SWC_ENV
    threads: 2
    resources:
        mem_mb=mem_mb(1000),
        runtime=runtime_min_for,
    params:
        legend_codes=LEGEND_CODES,
        t_by_county=t_of_batch,
        t_sensitivity=T_SENSITIVITY,
        erosion_unit=erosion_unit,
        landcover_resampling=SETTINGS.analysis.landcover_resampling,
        erosion_resampling=SETTINGS.analysis.erosion_resampling,
        erosion_layers=erosion_layers_of,
    script:
        "../scripts/crosstab.py"


# The gate of a year's results: the batches' value findings judged together (one error listing every
# problem); value_checks.json (counts and warnings) is what the published rasters wait for.
rule gather_crosstab:
    input:
        crosstabs=batch_files("results/{year}/{batch}/crosstab.nc"),
        value_checks=batch_files("results/{year}/{batch}/value_checks.npz"),
        counties="results/common/counties.gpkg",
        validation="results/{year}/validation.json",
    output:
        crosstab="results/{year}/crosstab.nc",
        value_checks="results/{year}/value_checks.json",
    log:
        "logs/{year}/gather_crosstab.log",
    benchmark:
        "results/benchmarks/gather_crosstab/{year}.tsv"
    conda:
        SWC_ENV
    params:
        year_entry=year_entry,
        legend_codes=LEGEND_CODES,
        unit_check=SETTINGS.validation.unit_check,
    script:
        "../scripts/gather_crosstab.py"


# The bulletin's "by land-use type" table: the only count output that prints class names.
rule landcover_table:
    input:
        crosstab="results/{year}/crosstab.nc",
        counties="results/common/counties.gpkg",
        legend=LEGEND_CSV,
    output:
        table=report(
            "results/{year}/erosion_by_landcover.csv",
            category="Tables",
            labels={"year": "{year}", "table": "erosion by land-cover class"},
        ),
    log:
        "logs/{year}/landcover_table.log",
    benchmark:
        "results/benchmarks/landcover_table/{year}.tsv"
    conda:
        SWC_ENV
    params:
        demo=SETTINGS.demo,
    script:
        "../scripts/landcover_table.py"


rule mosaic_grade:
    input:
        rasters=batch_files("results/{year}/{batch}/erosion_grade.tif"),
        # the gate: the year's values were checked (ancient: its time alone triggers no rerun)
        values_checked=ancient("results/{year}/value_checks.json"),
    output:
        raster=report(
            "results/{year}/erosion_grade.tif",
            caption="../report/erosion_grade.rst",
            category="GIS",
            labels={"year": "{year}", "output": "erosion grade raster (COG)"},
        ),
        aux=report(
            "results/{year}/erosion_grade.tif.aux.xml",
            category="GIS",
            labels={"year": "{year}", "output": "erosion grade: class names (GDAL)"},
        ),
        qml=report(
            "results/{year}/erosion_grade.qml",
            category="GIS",
            labels={"year": "{year}", "output": "erosion grade: QGIS style"},
        ),
    log:
        "logs/{year}/mosaic_grade.log",
    benchmark:
        "results/benchmarks/mosaic_grade/{year}.tsv"
    conda:
        SWC_ENV
    resources:
        mem_mb=mem_mb(2000),
    params:
        lang=LANG,
        demo=SETTINGS.demo,
    script:
        "../scripts/mosaic_grade.py"
