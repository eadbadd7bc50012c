# Maps, the bulletin workbook, the GeoPackage and the HTML assessment report of each year.


rule mosaic_landcover:
    input:
        rasters=batch_files("results/{year}/{batch}/aligned/landcover.tif"),
        legend=LEGEND_CSV,
        # the gate: the year's values were checked (ancient: its time alone triggers no rerun)
        values_checked=ancient("results/{year}/value_checks.json"),
    output:
        raster=report(
            "results/{year}/landcover.tif",
            category="GIS",
            labels={
                "year": "{year}",
                "output": "land cover on the analysis grid (COG)",
            },
        ),
        aux=report(
            "results/{year}/landcover.tif.aux.xml",
            category="GIS",
            labels={"year": "{year}", "output": "land cover: class names (GDAL)"},
        ),
        qml=report(
            "results/{year}/landcover.qml",
            category="GIS",
            labels={"year": "{year}", "output": "land cover: QGIS style"},
        ),
    log:
        "logs/{year}/mosaic_landcover.log",
    benchmark:
        "results/benchmarks/mosaic_landcover/{year}.tsv"
    conda:
        SWC_ENV
    resources:
        mem_mb=mem_mb(2000),
    params:
        lang=LANG,
        demo=SETTINGS.demo,
    script:
        "../scripts/mosaic_landcover.py"


rule draw_map:
    input:
        unpack(map_inputs),
    output:
        png=report(
            "results/{year}/maps/{kind}.png",
            caption="../report/map.rst",
            category="Maps",
            labels={"year": "{year}", "map": "{kind}"},
        ),
        pdf=report(
            "results/{year}/maps/{kind}.pdf",
            caption="../report/map.rst",
            category="Maps (PDF for print)",
            labels={"year": "{year}", "map": "{kind}"},
        ),
    log:
        "logs/{year}/map_{kind}.log",
    benchmark:
        "results/benchmarks/map/{year}/{kind}.tsv"
    wildcard_constraints:
        kind="|".join(MAP_KINDS),
    conda:
        SWC_ENV
    resources:
        mem_mb=mem_mb(2000),
    params:
        lang=LANG,
        demo=SETTINGS.demo,
        source_note=SETTINGS.publish.source_note,
        region_name=REGION_LABEL,
    script:
        "../scripts/draw_map.py"


rule workbook:
    input:
        rates="results/{year}/county_rates.csv",
        comparison="results/{year}/target_comparison.csv",
        long="results/{year}/erosion_by_landcover.csv",
        process="results/{year}/erosion_by_process.csv",
    output:
        xlsx=report(
            "results/{year}/swc_tables.xlsx",
            caption="../report/workbook.rst",
            category="Tables",
            labels={"year": "{year}", "table": "bulletin workbook"},
        ),
    log:
        "logs/{year}/workbook.log",
    benchmark:
        "results/benchmarks/workbook/{year}.tsv"
    conda:
        SWC_ENV
    params:
        method=year_method,
        lang=LANG,
        demo=SETTINGS.demo,
    script:
        "../scripts/workbook.py"


rule gis_outputs:
    input:
        rates="results/{year}/county_rates.csv",
        comparison="results/{year}/target_comparison.csv",
        process="results/{year}/erosion_by_process.csv",
        counties="results/common/counties.gpkg",
    output:
        gpkg=report(
            "results/{year}/counties.gpkg",
            caption="../report/counties_gpkg.rst",
            category="GIS",
            labels={"year": "{year}", "output": "counties with rates (GeoPackage)"},
        ),
    log:
        "logs/{year}/gis_outputs.log",
    benchmark:
        "results/benchmarks/gis_outputs/{year}.tsv"
    conda:
        SWC_ENV
    params:
        lang=LANG,
        demo=SETTINGS.demo,
    script:
        "../scripts/gis_outputs.py"


rule year_report:
    input:
        unpack(report_inputs),
    output:
        html=report(
            "results/{year}/report.html",
            caption="../report/assessment.rst",
            category="Assessment report",
            labels={"year": "{year}", "output": "assessment report (HTML)"},
        ),
    log:
        "logs/{year}/report.log",
    benchmark:
        "results/benchmarks/year_report/{year}.tsv"
    conda:
        SWC_ENV
    params:
        method=year_method,
        lang=LANG,
        demo=SETTINGS.demo,
    script:
        "../scripts/year_report.py"
