"""The report map's grade layer from a grade raster on another grid than the counties (GK vs Albers)."""

from __future__ import annotations

import numpy as np
import pyproj
import rasterio
from rasterio.transform import from_origin

from swc_raster.report_map import _Frame, _grade_image
from tests._rasters import ALBERS, GK114


def test_a_gauss_krueger_grade_raster_lands_where_it_belongs_in_the_albers_map(tmp_path):
    # Two halves on the GK grid of CM 114°E (EPSG:4547, the zone of Jincheng): west grade 2, east grade 5,
    # a 255 (outside) strip along the top. 40 × 30 km of 100 m cells, from x = 480 km.
    res, width, height, y0 = 100.0, 400, 300, 3_950_000.0
    grades = np.full((height, width), 2, dtype="uint8")
    grades[:, width // 2 :] = 5
    grades[:10, :] = 255
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": 1,
        "dtype": "uint8",
        "nodata": 255,
        "crs": GK114,
        "transform": from_origin(480_000.0, y0, res, res),
    }
    tif = tmp_path / "grade.tif"
    with rasterio.open(tif, "w", **profile) as dst:
        dst.write(grades, 1)
    to_albers = pyproj.Transformer.from_crs("EPSG:4547", ALBERS, always_xy=True)
    corners = [
        to_albers.transform(x, y)
        for x, y in ((480_000, y0), (520_000, y0), (480_000, y0 - 30_000), (520_000, y0 - 30_000))
    ]
    xs, ys = zip(*corners)
    frame = _Frame.around((min(xs), min(ys), max(xs), max(ys)))
    image = _grade_image(tif, pyproj.CRS.from_user_input(ALBERS), frame, budget_bytes=5_000_000)
    assert image is not None
    left, bottom, right, top = image["bounds"]
    assert left <= min(xs) + 200 and right >= max(xs) - 200 and top >= max(ys) - 200 and bottom <= min(ys) + 200
    # Read the embedded PNG back and look up two points: one in each half, moved to Albers independently.
    import base64
    import io

    from PIL import Image

    png = np.array(Image.open(io.BytesIO(base64.b64decode(image["href"].split(",", 1)[1]))))
    w, h = image["px"]
    for gk_x, expected in ((490_000.0, 2), (510_000.0, 5)):
        ax, ay = to_albers.transform(gk_x, y0 - 15_000)
        col = int((ax - left) / (right - left) * w)
        row = int((top - ay) / (top - bottom) * h)
        assert png[row, col] == expected
