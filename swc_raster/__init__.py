"""swc-raster: county soil and water conservation rates (水土保持率) from land-cover and erosion rasters.

The library beneath the Snakemake workflow: :mod:`swc_raster.stages` holds one function per
workflow rule; the science lives in the modules it calls (``grading``, ``zonal``, ``rates``,
``targets``, ``csle`` …).  ``docs/architecture.md`` maps the layout.
"""

__version__ = "0.2.0"
