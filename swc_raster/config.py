"""The workflow configuration: checked once against the schema, then one typed, immutable object.

:func:`load_settings` (or :meth:`Settings.from_config` on a dict already loaded) validates a
config against the schema shipped in this package (``swc_raster/schemas/config.schema.yaml``),
fills in the schema's defaults — the only place defaults live — and returns a frozen
:class:`Settings`.  The workflow hands each rule the plain values it needs from it (as
``params:``); library functions never see the config.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

import jsonschema
import yaml

from swc_raster.errors import ConfigError, InputFileError, Problem, ValidationFailed

if TYPE_CHECKING:
    from swc_raster.erosion_layers import ErosionLayer

#: Where the CSLE branch writes a year's erosion modulus, and its unit.
CSLE_EROSION: Final = "results/{year}/csle/A_t_km2.tif"
CSLE_EROSION_UNIT: Final = "t/km2/a"


def schema() -> dict:
    """The config schema (JSON Schema 2020-12) shipped inside the package."""
    text = resources.files("swc_raster").joinpath("schemas/config.schema.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


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


def key_path(path) -> str:
    """``years[2].erosion_unit`` from a jsonschema error path (``['years', 2, 'erosion_unit']``)."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _problem(error: jsonschema.ValidationError) -> Problem:
    """One schema error as input / what is wrong / fix, without dumping the schema."""
    where = list(error.absolute_path)
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        allowed = ", ".join(sorted(error.schema.get("properties", {})))
        return Problem(
            f"config: {', '.join(key_path([*where, key]) for key in extra)}",
            f"unknown key{'s' if len(extra) > 1 else ''}.",
            f"check the spelling; allowed in {key_path(where)}: {allowed} (config/README.md explains each).",
        )
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return Problem(
            f"config: {key_path(where + [missing])}",
            "is required but missing.",
            "add it (config/README.md explains the key).",
        )
    description = error.schema.get("description") if isinstance(error.schema, dict) else None
    instance = repr(error.instance)
    if len(instance) > 60:
        instance = instance[:57] + "..."
    if error.validator == "enum":
        what = f"is {instance}; allowed: {', '.join(map(repr, error.validator_value))}."
    elif error.validator == "type":
        what = f"is {instance}, not of type {error.validator_value}."
    else:
        what = f"is {instance}: {error.validator} {error.validator_value!r} not met."
    fix = f"set it as the schema says: {description}" if description else "see config/README.md for this key."
    return Problem(f"config: {key_path(where)}", what, fix)


def validate_config(cfg: dict) -> dict:
    """Validate ``cfg`` against the schema, filling in defaults (in place); returns ``cfg``.

    Raises :class:`~swc_raster.errors.ValidationFailed` listing every schema error with
    the key's location (``years[2].erosion_unit``) and what to do.
    """
    if not isinstance(cfg, dict):
        raise ConfigError("config", "is not a mapping of keys to values.", "see config/config.yaml for the layout.")
    validator = _with_defaults(jsonschema.Draft202012Validator)(schema())
    errors = sorted(validator.iter_errors(cfg), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        raise ValidationFailed(list(dict.fromkeys(_problem(e) for e in errors)))
    validator.validate(cfg)  # second pass: defaults inside freshly defaulted objects
    return cfg


def load_config(path: str | Path) -> dict:
    """Read a YAML config file and validate it (defaults filled in)."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"config ({path})", "the file does not exist.", "pass an existing file with --configfile.")
    return validate_config(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


# --------------------------------------------------------------------------- typed settings


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    name_en: str

    def label(self, lang: str) -> str:
        return self.name if lang == "zh" else self.name_en


@dataclass(frozen=True)
class BoundarySource:
    """Where the county polygons are and which fields hold code and names."""

    path: str
    layer: str | None
    code_field: str
    name_field: str
    name_en_field: str | None


@dataclass(frozen=True)
class Analysis:
    """Where counting happens: ``grid`` ``equal_area`` (``crs`` at ``resolution_m``) or ``source`` (the
    erosion raster's own grid); ``crs`` is also the CRS of the prepared boundaries' areas and maps."""

    crs: str
    resolution_m: float
    landcover_resampling: str
    erosion_resampling: str
    grid: str = "source"


@dataclass(frozen=True)
class AllowableLoss:
    """T (t/(km²·a)): one default and per-county overrides."""

    default_t_km2: float
    by_county: Mapping[str, float]
    #: Alternative T values (ascending, distinct) at which every county's rate is also reported.
    sensitivity_t_km2: tuple[float, ...] = ()

    def t_for(self, county_code: str) -> float:
        return float(self.by_county.get(str(county_code), self.default_t_km2))


@dataclass(frozen=True)
class ValidationRules:
    min_coverage_pct: float
    unit_check: str
    overlap_tolerance_pct: float


@dataclass(frozen=True)
class Split:
    by: str | None
    counties_per_batch: int | None
    max_cells_per_job: float


@dataclass(frozen=True)
class Publish:
    lang: str
    source_note: str | None


@dataclass(frozen=True)
class YearInputs:
    """One year's inputs.  For a CSLE year (``csle`` set) ``erosion`` is the branch's output."""

    year: int
    landcover: str | None
    erosion: str | None
    erosion_unit: str | None
    csle: Mapping[str, Any] | None = None
    erosion_patches: Mapping[str, Any] | None = None
    landuse_polygons: Mapping[str, Any] | None = None
    #: ``erosion_grades:`` block: the erosion raster holds intensity grades (None: a modulus).
    erosion_grades: Mapping[str, Any] | None = None
    wind_erosion: str | None = None
    wind_erosion_unit: str | None = None
    wind_erosion_grades: Mapping[str, Any] | None = None

    @property
    def is_csle(self) -> bool:
        return self.csle is not None

    @property
    def is_graded(self) -> bool:
        """The water-erosion raster holds grades: T has no effect, there is no T sensitivity."""
        return self.erosion_grades is not None

    @property
    def has_wind(self) -> bool:
        return self.wind_erosion is not None

    @property
    def has_layers(self) -> bool:
        """Read through erosion layers (grades or wind) rather than as one modulus raster."""
        return self.is_graded or self.has_wind

    def erosion_layers(self, wind_thresholds_t_km2: tuple[float, ...]) -> list[ErosionLayer]:
        """The year's erosion layers: water (modulus or grades), then wind when given."""
        from swc_raster.erosion_layers import ErosionLayer, grade_table  # numpy: not needed to check a config

        where = f"config: years ({self.year})"
        water = ErosionLayer("water", str(self.erosion), unit=self.erosion_unit)
        if self.erosion_grades is not None:
            codes, nodata = grade_table(self.erosion_grades, f"{where}.erosion_grades")
            water = ErosionLayer("water", str(self.erosion), grade_codes=codes, nodata_codes=nodata)
        layers = [water]
        if self.wind_erosion is not None:
            if self.wind_erosion_grades is not None:
                codes, nodata = grade_table(self.wind_erosion_grades, f"{where}.wind_erosion_grades")
                layers.append(ErosionLayer("wind", self.wind_erosion, grade_codes=codes, nodata_codes=nodata))
            else:
                layers.append(
                    ErosionLayer(
                        "wind", self.wind_erosion, unit=self.wind_erosion_unit, thresholds_t_km2=wind_thresholds_t_km2
                    )
                )
        return layers

    @property
    def is_vector(self) -> bool:
        """Erosion patches and land-use polygons: counted by exact polygon overlay, no rasters."""
        return self.erosion_patches is not None

    def as_entry(self) -> dict[str, Any]:
        """The year as a plain ``years:`` entry with its erosion raster (derived for a CSLE year)."""
        entry: dict[str, Any] = {
            "year": self.year,
            "landcover": self.landcover,
            "erosion": self.erosion,
            "erosion_unit": self.erosion_unit,
        }
        if self.csle is not None:
            entry["csle"] = dict(self.csle)
        return entry


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Settings:
    """The whole configuration, checked and typed.  Build it with :meth:`from_config`."""

    region: Region
    boundaries: BoundarySource
    targets: str
    landcover_legend: str
    analysis: Analysis
    allowable_loss: AllowableLoss
    validation: ValidationRules
    split: Split
    publish: Publish
    demo: bool
    years: Mapping[int, YearInputs] = field(default_factory=dict)
    #: Lower bounds of wind-erosion grades 2–6, t/(km²·a) (``wind_grading.thresholds_t_km2``).
    wind_thresholds_t_km2: tuple[float, ...] = (200.0, 2500.0, 5000.0, 8000.0, 15000.0)

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> Settings:
        """Validate a config mapping (a deep copy; ``cfg`` is not changed) and type it."""
        c = validate_config(copy.deepcopy(dict(cfg)))
        b, a, al, v, s, p = (
            c[k] for k in ("boundaries", "analysis", "allowable_loss", "validation", "split", "publish")
        )
        return cls(
            region=Region(
                str(c["region"]["code"]), c["region"]["name"], c["region"].get("name_en") or c["region"]["name"]
            ),
            boundaries=BoundarySource(b["path"], b["layer"], b["code_field"], b["name_field"], b["name_en_field"]),
            targets=c["targets"],
            landcover_legend=c["landcover_legend"],
            analysis=Analysis(
                a["crs"],
                float(a["resolution_m"]),
                a["landcover_resampling"],
                a["erosion_resampling"],
                a.get("grid", "source"),
            ),
            allowable_loss=AllowableLoss(
                float(al["default_t_km2"]),
                _frozen({str(k): float(t) for k, t in al["by_county"].items()}),
                tuple(sorted(float(t) for t in al["sensitivity_t_km2"])),
            ),
            validation=ValidationRules(
                float(v["min_coverage_pct"]), v["unit_check"], float(v["overlap_tolerance_pct"])
            ),
            split=Split(s["by"], s["counties_per_batch"], float(s["max_cells_per_job"])),
            publish=Publish(p["lang"], p["source_note"]),
            demo=bool(c["demo"]),
            years=_frozen(year_inputs(c)),
            wind_thresholds_t_km2=_wind_thresholds(c["wind_grading"]["thresholds_t_km2"]),
        )

    def year(self, year: int | str) -> YearInputs:
        return self.years[int(year)]


def load_settings(path: str | Path) -> Settings:
    """Read, validate and type a YAML config file."""
    return Settings.from_config(load_config(path))


def year_inputs(cfg: Mapping[str, Any]) -> dict[int, YearInputs]:
    """Each configured year's inputs, keyed by year; repeated labels are an error.

    A year gives one land-cover form (``landcover`` raster, or ``landuse_polygons``) and one
    erosion form: an erosion raster (``erosion``, ``erosion_unit``), a ``csle:`` block (its
    erosion is :data:`CSLE_EROSION` in t/km2/a), or ``erosion_patches`` (which go with
    ``landuse_polygons``: such a year is counted by polygon overlay).
    """
    out: dict[int, YearInputs] = {}
    for i, entry in enumerate(cfg["years"]):
        y = int(entry["year"])
        where = f"config: years[{i}] ({y})"
        if y in out:
            raise ConfigError(
                f"config: years[{i}].year", f"{y} is listed twice.", "keep one entry per year in `years:`."
            )
        forms = [k for k in ("erosion", "csle", "erosion_patches") if entry.get(k) is not None]
        derived = CSLE_EROSION.format(year=y)
        if forms == ["erosion", "csle"] and entry["erosion"] == derived:
            forms = ["csle"]  # a config already resolved by resolve_csle_erosion
        if len(forms) != 1:
            raise ConfigError(
                where,
                f"has {' and '.join(forms) if forms else 'no erosion input'}.",
                "give exactly one of `erosion:` (with `erosion_unit:`, a finished erosion raster), "
                "`csle:` (compute it) or `erosion_patches:` (patch polygons).",
            )
        land = [k for k in ("landcover", "landuse_polygons") if entry.get(k) is not None]
        if len(land) != 1:
            raise ConfigError(
                where,
                f"has {' and '.join(land) if land else 'no land-cover input'}.",
                "give exactly one of `landcover:` (a raster) or `landuse_polygons:` (survey polygons).",
            )
        _erosion_layer_keys(entry, where, forms)
        vector = forms == ["erosion_patches"]
        if vector != (land == ["landuse_polygons"]):
            raise ConfigError(
                where,
                "mixes a raster and a vector form (one of land cover and erosion is polygons, the other a raster).",
                "give both as polygons (`erosion_patches:` with `landuse_polygons:`) or both as "
                "rasters (`erosion:`/`csle:` with `landcover:`); rasterize one of them first if needed.",
            )
        wind = {
            "wind_erosion": entry.get("wind_erosion"),
            "wind_erosion_unit": entry.get("wind_erosion_unit"),
            "wind_erosion_grades": None
            if entry.get("wind_erosion_grades") is None
            else _frozen(entry["wind_erosion_grades"]),
        }
        if forms == ["csle"]:
            out[y] = YearInputs(y, entry["landcover"], derived, CSLE_EROSION_UNIT, _frozen(entry["csle"]), **wind)
        elif vector:
            out[y] = YearInputs(
                y,
                None,
                None,
                None,
                erosion_patches=_frozen(entry["erosion_patches"]),
                landuse_polygons=_frozen(entry["landuse_polygons"]),
            )
        else:
            grades = entry.get("erosion_grades")
            out[y] = YearInputs(
                y,
                entry["landcover"],
                entry["erosion"],
                entry.get("erosion_unit"),
                erosion_grades=None if grades is None else _frozen(grades),
                **wind,
            )
        # the grade tables' own problems (a code twice, code 0 as a grade) surface at parse time
        for key in ("erosion_grades", "wind_erosion_grades"):
            if entry.get(key) is not None:
                from swc_raster.erosion_layers import grade_table  # numpy: only for years with a grade table

                grade_table(entry[key], f"{where}.{key}")
    return out


def _wind_thresholds(values: list[float]) -> tuple[float, ...]:
    t = tuple(float(v) for v in values)
    if any(b <= a for a, b in zip(t, t[1:])):
        raise ConfigError(
            "config: wind_grading.thresholds_t_km2",
            f"is {list(t)}: the five lower bounds of 轻度 … 剧烈 must increase.",
            "give them in grade order, e.g. the SL 190-2007 values [200, 2500, 5000, 8000, 15000].",
        )
    return t


def _erosion_layer_keys(entry: Mapping[str, Any], where: str, forms: list[str]) -> None:
    """A graded raster has no unit; a wind layer has exactly one of a unit or a grade table and goes with rasters."""
    if entry.get("erosion_grades") is not None:
        if forms != ["erosion"]:
            raise ConfigError(
                f"{where}.erosion_grades",
                "describes the codes of an `erosion:` raster, but the year has none.",
                "remove `erosion_grades:`, or give the graded raster as `erosion:`.",
            )
        if entry.get("erosion_unit") is not None:
            raise ConfigError(
                where,
                "has both `erosion_unit:` (a modulus) and `erosion_grades:` (a graded raster).",
                "keep `erosion_unit:` if the raster holds the erosion modulus, `erosion_grades:` if it holds grades.",
            )
    wind = entry.get("wind_erosion")
    wind_keys = [k for k in ("wind_erosion_unit", "wind_erosion_grades") if entry.get(k) is not None]
    if wind is None:
        if wind_keys:
            raise ConfigError(
                f"{where}.{wind_keys[0]}",
                "is given, but the year has no `wind_erosion:` raster.",
                "add `wind_erosion:` (the wind-erosion raster) or remove the key.",
            )
        return
    if forms == ["erosion_patches"]:
        raise ConfigError(
            f"{where}.wind_erosion",
            "is a raster, but the year's erosion is delivered as patch polygons.",
            "give wind erosion with raster inputs (`erosion:` or `csle:`), or merge it into the patches' grades.",
        )
    if len(wind_keys) != 1:
        raise ConfigError(
            where,
            "has a `wind_erosion:` raster with "
            + (" and ".join(f"`{k}:`" for k in wind_keys) if wind_keys else "neither a unit nor a grade table")
            + ".",
            "give exactly one of `wind_erosion_unit:` (a wind-erosion modulus) or `wind_erosion_grades:` (grades).",
        )
    if forms == ["erosion"] and str(wind) == str(entry.get("erosion")):
        raise ConfigError(
            f"{where}.wind_erosion",
            f"is the same file as `erosion:` ({wind}).",
            "point `wind_erosion:` at the wind-erosion raster and `erosion:` at the water-erosion raster.",
        )


def resolve_csle_erosion(cfg: dict) -> dict:
    """Give every CSLE year of a config dict its derived ``erosion``/``erosion_unit`` (in place); returns ``cfg``."""
    for entry in cfg["years"]:
        if entry.get("csle") is not None:
            entry["erosion"] = CSLE_EROSION.format(year=int(entry["year"]))
            entry["erosion_unit"] = CSLE_EROSION_UNIT
    return cfg
