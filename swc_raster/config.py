"""Load and check the workflow configuration; typed access to its parts."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import jsonschema
import yaml

from swc_raster.errors import ConfigError, InputFileError

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "workflow" / "schemas" / "config.schema.yaml"


def _with_defaults(validator_class):
    """A validator that fills in each property's ``default`` (as snakemake.utils.validate does)."""
    validate_props = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_props(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def validate_config(cfg: dict, schema_path: Path = SCHEMA_PATH) -> dict:
    """Validate ``cfg`` against the schema, filling in defaults; returns ``cfg``."""
    schema = yaml.safe_load(schema_path.read_text(encoding="utf-8"))
    validator = _with_defaults(jsonschema.Draft202012Validator)(schema)
    errors = sorted(validator.iter_errors(cfg), key=lambda e: list(e.path))
    if errors:
        lines = [f"{'.'.join(map(str, e.path)) or '(top level)'}: {e.message}" for e in errors]
        raise ConfigError("config", "does not match the schema: " + "; ".join(lines) + ".",
                          "see config/README.md for every key and its allowed values.")
    # Second pass: defaults inside freshly defaulted objects are now present.
    validator.validate(cfg)
    return cfg


def load_config(path: str | Path) -> dict:
    """Read a YAML config and validate it."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"config ({path})", "the file does not exist.", "pass an existing file with --configfile.")
    return validate_config(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


#: Where the CSLE branch writes a year's erosion modulus, and its unit.
CSLE_EROSION: Final = "results/{year}/csle/A_t_km2.tif"
CSLE_EROSION_UNIT: Final = "t/km2/a"


@dataclass(frozen=True)
class YearInputs:
    """One year's inputs.  For a CSLE year (``csle`` set) ``erosion`` is the branch's output."""

    year: int
    landcover: str
    erosion: str | None
    erosion_unit: str | None
    csle: Mapping[str, Any] | None = None

    @property
    def is_csle(self) -> bool:
        return self.csle is not None


def year_inputs(cfg: dict) -> dict[int, YearInputs]:
    """Each configured year's inputs, keyed by year; repeated labels are an error.

    A year gives either an erosion raster (``erosion``, ``erosion_unit``) or a
    ``csle:`` block; a CSLE year's erosion is :data:`CSLE_EROSION` in t/km2/a.
    """
    out: dict[int, YearInputs] = {}
    for entry in cfg["years"]:
        y = int(entry["year"])
        if y in out:
            raise ConfigError(f"years[{y}]", "this year is listed twice.", "keep one entry per year in `years:`.")
        block = entry.get("csle")
        if block is not None:
            derived = CSLE_EROSION.format(year=y)
            if entry.get("erosion") not in (None, derived):
                raise ConfigError(f"years[{y}]", "has both an erosion raster and a `csle:` block.",
                                  "keep `erosion:` (a finished erosion raster) or `csle:` (compute it), not both.")
            out[y] = YearInputs(y, entry["landcover"], derived, CSLE_EROSION_UNIT, dict(block))
            continue
        if not entry.get("erosion"):
            raise ConfigError(f"years[{y}]", "has no erosion raster.",
                              "add `erosion:` (and `erosion_unit:`) for this year, or a `csle:` block to compute it, "
                              "or remove the year.")
        out[y] = YearInputs(y, entry["landcover"], entry.get("erosion"), entry.get("erosion_unit"))
    return out


def resolve_csle_erosion(cfg: dict) -> dict:
    """Give every CSLE year its derived ``erosion``/``erosion_unit`` (in place); returns ``cfg``.

    Stages downstream of the branch (align, grade, the method record of the
    workbook and report) read a year's erosion raster from these keys; for a CSLE
    year it is the branch's output :data:`CSLE_EROSION` in t/km2/a.  Call it after
    the schema and header checks (a user's config must not give both).
    """
    for entry in cfg["years"]:
        if entry.get("csle") is not None:
            entry["erosion"] = CSLE_EROSION.format(year=int(entry["year"]))
            entry["erosion_unit"] = CSLE_EROSION_UNIT
    return cfg


def allowable_loss(cfg: dict, county_code: str) -> float:
    """T (t/(km²·a)) for one county: its override, else the default."""
    al = cfg["allowable_loss"]
    return float(al["by_county"].get(county_code, al["default_t_km2"]))
