# A year delivered as polygons (erosion patches 图斑 and survey land use 三调): its county ×
# land cover × grade table by exact overlay in the analysis CRS; every later stage as for rasters.


ruleorder: vector_crosstab > gather_crosstab


rule vector_crosstab:
    input:
        unpack(vector_inputs),
    output:
        crosstab="results/{year}/crosstab.nc",
        notes="results/{year}/vector_notes.json",
    log:
        "logs/{year}/vector_crosstab.log",
    benchmark:
        "results/benchmarks/vector_crosstab/{year}.tsv"
    wildcard_constraints:
        year="|".join(VECTOR_YEARS) or "(?!)",
    conda:
        SWC_ENV
    resources:
        mem_mb=mem_mb(4000),
    params:
        erosion_patches=vector_block("erosion_patches"),
        landuse_polygons=vector_block("landuse_polygons"),
        landcover_legend=SETTINGS.landcover_legend,
        legend_codes=LEGEND_CODES,
        t_by_county=T_BY_COUNTY,
        analysis_crs=SETTINGS.analysis.crs,
    script:
        "../scripts/vector_crosstab.py"
