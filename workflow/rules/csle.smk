# Optional upstream branch (issue 7): a year with a `csle:` block gets its erosion modulus
# A = R·K·L·S·B·E·T computed on the DEM's grid; A then goes through the same
# validation, alignment and grading as any erosion raster (erosion_input in common.smk).


rule csle_erosion:
    input:
        unpack(csle_inputs),
    output:
        R="results/{year}/csle/R.tif",
        K="results/{year}/csle/K.tif",
        LS="results/{year}/csle/LS.tif",
        B="results/{year}/csle/B.tif",
        E="results/{year}/csle/E.tif",
        T="results/{year}/csle/T.tif",
        A="results/{year}/csle/A_t_km2.tif",
        means=report(
            "results/{year}/csle/county_factor_means.csv",
            category="CSLE",
            labels={"year": "{year}", "output": "CSLE factor means by county"},
        ),
    log:
        "logs/{year}/csle_erosion.log",
    benchmark:
        "results/benchmarks/csle_erosion/{year}.tsv"
    wildcard_constraints:
        year="|".join(CSLE_YEARS) or "(?!)",
    conda:
        SWC_ENV
    resources:
        mem_mb=mem_mb(4000),
        runtime=60,
    params:
        year_entry=csle_entry,
        boundaries_settings=BOUNDARY_SETTINGS,
        analysis_crs=SETTINGS.analysis.crs,
        validation_rules=VALIDATION_RULES,
        legend_codes=LEGEND_CODES,
        region_code=SETTINGS.region.code,
        region_name=SETTINGS.region.name,
        demo=SETTINGS.demo,
    script:
        "../scripts/csle_erosion.py"
