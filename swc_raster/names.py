"""How county codes and names are compared across boundaries, target tables and configs."""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any


def normalise_code(value: Any) -> str:
    """County code as a string: ``140502``, ``"140502 "`` and ``140502.0`` all give ``"140502"``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = str(value).strip()
    m = re.fullmatch(r"(\d+)\.0*", text)
    return m.group(1) if m else text


def normalise_name(value: Any) -> str:
    """Name for matching: Unicode NFKC (full-width forms), all whitespace removed (``城 区`` == ``城区``)."""
    if value is None:
        return ""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value)))
