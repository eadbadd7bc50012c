# Several years: rates by year, what changed, progress toward the targets, grade transitions.


rule summarise_years:
    input:
        rates=expand("results/{year}/county_rates.csv", year=YEAR_LABELS),
        targets=SETTINGS.targets,
    output:
        rates=report(
            "results/summary/rates_by_year.csv",
            category="Multi-year",
            labels={"years": "all", "output": "rates by year"},
        ),
        changes=report(
            "results/summary/changes.csv",
            category="Multi-year",
            labels={"years": "all", "output": "changes between years"},
        ),
        progress=report(
            "results/summary/progress.csv",
            category="Multi-year",
            labels={"years": "all", "output": "progress toward the targets"},
        ),
        chart=report(
            "results/summary/progress_by_county.png",
            category="Multi-year",
            labels={"years": "all", "output": "progress chart"},
        ),
    log:
        "logs/summary/summarise_years.log",
    benchmark:
        "results/benchmarks/summarise_years/all.tsv"
    conda:
        SWC_ENV
    params:
        lang=LANG,
        demo=SETTINGS.demo,
    script:
        "../scripts/summarise_years.py"


rule transitions:
    input:
        grade_from="results/{year_from}/{batch}/erosion_grade.tif",
        grade_to="results/{year_to}/{batch}/erosion_grade.tif",
        zones="results/common/{batch}/zones.tif",
        counties="results/common/{batch}/counties.gpkg",
    output:
        table=temp("results/summary/{batch}/transitions_{year_from}_{year_to}.csv"),
        change_map=temp("results/summary/{batch}/change_{year_from}_{year_to}.tif"),
    log:
        "logs/summary/{batch}/transitions_{year_from}_{year_to}.log",
    benchmark:
        "results/benchmarks/transitions/{year_from}_{year_to}/{batch}.tsv"
    wildcard_constraints:
        year_from="|".join(YEAR_LABELS),
        year_to="|".join(YEAR_LABELS),
    conda:
        SWC_ENV
    resources:
        mem_mb=mem_mb(1000),
        runtime=runtime_min_for,
    params:
        lang=LANG,
    script:
        "../scripts/transitions.py"


rule gather_transitions:
    input:
        rasters=batch_files("results/summary/{batch}/change_{year_from}_{year_to}.tif"),
        tables=batch_files(
            "results/summary/{batch}/transitions_{year_from}_{year_to}.csv"
        ),
        # the gate: the year's values were checked (ancient: its time alone triggers no rerun)
        values_checked_from=ancient("results/{year_from}/value_checks.json"),
        values_checked_to=ancient("results/{year_to}/value_checks.json"),
    output:
        raster=report(
            "results/summary/change_{year_from}_{year_to}.tif",
            category="Multi-year",
            labels={"years": "{year_from}–{year_to}", "output": "change map (COG)"},
        ),
        aux=report(
            "results/summary/change_{year_from}_{year_to}.tif.aux.xml",
            category="Multi-year",
            labels={
                "years": "{year_from}–{year_to}",
                "output": "change map: class names (GDAL)",
            },
        ),
        qml=report(
            "results/summary/change_{year_from}_{year_to}.qml",
            category="Multi-year",
            labels={
                "years": "{year_from}–{year_to}",
                "output": "change map: QGIS style",
            },
        ),
        table=report(
            "results/summary/transitions_{year_from}_{year_to}.csv",
            category="Multi-year",
            labels={
                "years": "{year_from}–{year_to}",
                "output": "grade transitions by county",
            },
        ),
    log:
        "logs/summary/gather_transitions_{year_from}_{year_to}.log",
    benchmark:
        "results/benchmarks/gather_transitions/{year_from}_{year_to}.tsv"
    wildcard_constraints:
        year_from="|".join(YEAR_LABELS),
        year_to="|".join(YEAR_LABELS),
    conda:
        SWC_ENV
    params:
        lang=LANG,
        demo=SETTINGS.demo,
    script:
        "../scripts/gather_transitions.py"
