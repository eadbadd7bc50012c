"""Command line: ``swc-raster validate CONFIG`` checks a config and every input it names.

It runs the same checks as the workflow (schema, file headers, targets against boundaries,
then each year's raster data) and prints every problem at once, without computing anything,
so a long run does not stop hours in on a bad input.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from swc_raster import __version__


def validate_command(config_path: Path, base_dir: Path, years: list[int] | None) -> int:
    """Check a config and its inputs; print problems and warnings; 0 when usable, 1 when not."""
    from swc_raster import validate
    from swc_raster.config import Settings, load_config
    from swc_raster.errors import SwcError
    from swc_raster.legend import read_legend

    try:
        cfg = load_config(config_path)
        settings = Settings.from_config(cfg)
        read_legend(
            base_dir / settings.landcover_legend
            if not Path(settings.landcover_legend).is_absolute()
            else settings.landcover_legend
        )
        selected = years or list(settings.years)
        unknown = sorted(set(selected) - set(settings.years))
        if unknown:
            print(f"years {unknown} are not in {config_path}; configured: {sorted(settings.years)}", file=sys.stderr)
            return 2
        # CSLE years are checked from their factor inputs; their A raster does not exist yet.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            found = validate.validate(cfg, base_dir, years=selected)
    except SwcError as exc:
        print(f"{config_path}: NOT usable.\n{exc}", file=sys.stderr)
        return 1
    for text in list(dict.fromkeys([*found, *(str(w.message) for w in caught)])):
        print(f"warning: {text}")
    print(f"{config_path}: usable — {len(selected)} year(s) checked: {', '.join(map(str, selected))}.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="swc-raster", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"swc-raster {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("validate", help="check a config and all its inputs, without computing anything")
    check.add_argument("config", type=Path, help="the YAML config (as passed to snakemake --configfile)")
    check.add_argument(
        "--base-dir",
        type=Path,
        default=Path.cwd(),
        help="folder that relative paths in the config start from (default: the current folder)",
    )
    check.add_argument("--year", type=int, action="append", dest="years", help="check only this year (repeatable)")
    args = parser.parse_args(argv)
    return validate_command(args.config, args.base_dir, args.years)


if __name__ == "__main__":
    sys.exit(main())
