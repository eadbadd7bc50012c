"""Header checks of an all-vector year (erosion patches and land-use polygons).

The data themselves (attribute values, codes, overlaps, CRS of every layer) are read and checked
by :mod:`swc_raster.vector_inputs` in the counting stage, which raises with the fix before writing
anything; here only what is cheap: each file opens, the layer exists, the declared fields exist.
"""

from __future__ import annotations

from typing import Any

import pyogrio

from swc_raster.validate.context import Context, Year, check_file

#: Keys of each vector block that name an attribute the layer must have.
_FIELDS = {"erosion_patches": ("grade_field", "modulus_field"), "landuse_polygons": ("code_field",)}


def is_vector(y: Year) -> bool:
    return y.entry.get("erosion_patches") is not None


def vector_header(ctx: Context, y: Year) -> None:
    """Both layers of the year open, with the fields the config names (every problem collected)."""
    for key, fields in _FIELDS.items():
        block: Any = y.entry.get(key) or {}
        label = y.input(key, block.get("path"))
        if not block:
            ctx.add(
                y.input(key),
                f"year {y.label} has erosion patches but no `{key}:`.",
                "give land use as polygons too (`landuse_polygons:`), or both inputs as rasters.",
            )
            continue
        path = check_file(ctx, label, block.get("path"))
        if path is None:
            continue
        try:
            info = pyogrio.read_info(path, layer=block.get("layer"))
        except Exception as exc:  # GDAL's message says what it could not read
            ctx.add(
                label,
                f"cannot be read as a vector layer ({exc}).",
                "check the path and `layer:` (list the layers with `ogrinfo FILE`).",
            )
            continue
        if info.get("crs") is None:
            ctx.add(label, "has no CRS.", "assign the CRS in QGIS (Layer → Set CRS) and save the layer again.")
        present = list(info.get("fields", []))
        for field in fields:
            name = block.get(field)
            if name and name not in present:
                ctx.add(
                    f"{y.input(key)}.{field}",
                    f"the layer has no field {name!r}; it has {present}.",
                    f"set `{field}:` to the field that holds it.",
                )
    patches = y.entry.get("erosion_patches") or {}
    if bool(patches.get("grade_field")) == bool(patches.get("modulus_field")):
        ctx.add(
            y.input("erosion_patches"),
            "needs exactly one of `grade_field` and `modulus_field`.",
            "name the attribute with the SL 190 grade, or the one with the modulus (and its `modulus_unit`).",
        )
    if patches.get("modulus_field") and not patches.get("modulus_unit"):
        ctx.add(
            y.input("erosion_patches.modulus_unit"),
            "the modulus attribute's unit is not declared.",
            "add `modulus_unit: t/km2/a` (or t/ha/a, kg/m2/a) as the data provider states it.",
        )
