"""The typed config: schema defaults in one place, immutable settings, errors that say where."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from swc_raster.config import Settings, key_path, load_settings, schema
from swc_raster.errors import ValidationFailed
from tests._rasters import ROOT

MINIMAL = {
    "region": {"code": "140500", "name": "晋城市"},
    "boundaries": {"path": "b.gpkg"},
    "targets": "t.csv",
    "years": [{"year": 2023, "landcover": "l.tif", "erosion": "e.tif", "erosion_unit": "t/km2/a"}],
}


def test_defaults_come_from_the_schema():
    s = Settings.from_config(MINIMAL)
    props = schema()["properties"]
    assert s.allowable_loss.default_t_km2 == props["allowable_loss"]["properties"]["default_t_km2"]["default"] == 200
    assert s.analysis.resolution_m == props["analysis"]["properties"]["resolution_m"]["default"]
    assert s.validation.min_coverage_pct == props["validation"]["properties"]["min_coverage_pct"]["default"]
    assert s.publish.lang == "zh" and s.demo is False
    assert s.region.name_en == "晋城市"  # falls back to the Chinese name
    assert s.landcover_legend == props["landcover_legend"]["default"]


def test_t_per_county_is_the_override_else_the_default():
    cfg = {**MINIMAL, "allowable_loss": {"default_t_km2": 500, "by_county": {"140581": 1000}}}
    s = Settings.from_config(cfg)
    assert s.allowable_loss.t_for("140581") == 1000.0
    assert s.allowable_loss.t_for("140502") == 500.0


def test_settings_are_immutable_and_the_input_dict_is_untouched():
    cfg = yaml.safe_load(yaml.safe_dump(MINIMAL))
    s = Settings.from_config(cfg)
    assert cfg == MINIMAL  # no defaults written into the caller's dict
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.demo = True  # type: ignore[misc]
    with pytest.raises(TypeError):
        s.allowable_loss.by_county["140502"] = 1.0  # type: ignore[index]


def test_a_csle_year_gets_the_branch_output_as_its_erosion():
    demo = load_settings(ROOT / "config/config.yaml")
    y = demo.year(2024)
    assert y.is_csle and y.erosion == "results/2024/csle/A_t_km2.tif" and y.erosion_unit == "t/km2/a"
    assert y.csle["factor_table"] == "config/csle_factors.csv"


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        (lambda c: c["years"][0].update(erosion_units="t/ha/a"), "config: years[0].erosion_units"),
        (lambda c: c.update(allowable_loss={"default_t_km2": "200 t"}), "config: allowable_loss.default_t_km2"),
        (lambda c: c.update(publish={"lang": "fr"}), "config: publish.lang"),
        (lambda c: c["region"].pop("code"), "config: region.code"),
        (lambda c: c.update(analysis={"resolution_m": -30}), "config: analysis.resolution_m"),
    ],
)
def test_schema_errors_name_the_key_and_do_not_dump_the_schema(edit, where):
    cfg = yaml.safe_load(yaml.safe_dump(MINIMAL))
    edit(cfg)
    with pytest.raises(ValidationFailed) as caught:
        Settings.from_config(cfg)
    message = str(caught.value)
    assert f"[{where}]" in message and "Fix:" in message
    assert "$schema" not in message and "'properties'" not in message and len(message) < 600


def test_key_path_reads_like_yaml():
    assert key_path(["years", 2, "erosion_unit"]) == "years[2].erosion_unit"
    assert key_path([]) == "(top level)"
