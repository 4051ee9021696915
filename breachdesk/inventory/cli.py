"""`breachdesk inventory import|export|validate`."""

import os
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from breachdesk.audit.services import acting_as
from breachdesk.core.errors import ValidationFailed
from breachdesk.extensions import db
from breachdesk.inventory.exporter import export_structure, iter_volumes_csv
from breachdesk.inventory.importer import ImportSummary, import_inventory

inventory_cli = AppGroup("inventory", help="Import, export and validate the processing inventory.")


class ClickProgress:
    """Progress bars on stderr for each import stage."""

    def __init__(self) -> None:
        self._bar = None

    def start(self, label: str, total: int) -> None:
        self._bar = click.progressbar(
            length=max(total, 1), label=label, file=sys.stderr, show_pos=False, show_percent=True, show_eta=True
        )
        self._bar.__enter__()

    def advance(self, amount: int) -> None:
        self._bar.update(amount)

    def finish(self) -> None:
        self._bar.__exit__(None, None, None)


def run_import(path: Path, volumes: Path | None) -> ImportSummary:
    """Import a structure file (YAML/JSON/Fides) and/or a volumes CSV; all-or-nothing."""
    structure = None
    if path.suffix.lower() == ".csv":
        volumes, path = path, None
    if path is not None:
        try:
            structure = (path.name, path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as error:
            raise ValidationFailed([f"{path.name}:?: encoding: not UTF-8 text ({error.reason})"]) from None
    if volumes is None:
        return import_inventory(structure, None, ClickProgress(), volumes_dir=path.parent)
    with volumes.open("rb") as stream:
        return import_inventory(structure, (volumes.name, stream, volumes.stat().st_size), ClickProgress())


def _report(error: ValidationFailed) -> click.ClickException:
    for problem in error.problems:
        click.echo(problem, err=True)
    return click.ClickException(f"{len(error.problems)} problem(s); nothing was changed")


@inventory_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--volumes",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Volumes CSV (default: the file named by the structure's `volumes:`).",
)
def import_command(path, volumes):
    """Import an inventory file (ours or a Fides manifest) and/or a volumes CSV, all or nothing."""
    with acting_as("cli"):
        try:
            summary = run_import(path, volumes)
        except ValidationFailed as error:
            db.session.rollback()
            raise _report(error) from None
        db.session.commit()
    click.echo(f"imported: {summary}")


@inventory_cli.command("validate")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--volumes", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def validate_command(path, volumes):
    """Check an inventory file against the database without changing anything."""
    with acting_as("cli"):
        try:
            summary = run_import(path, volumes)
        except ValidationFailed as error:
            raise _report(error) from None
        finally:
            db.session.rollback()
    click.echo(f"valid: would give {summary}")


@inventory_cli.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export_command(directory):
    """Write inventory.yaml and volumes.csv into DIRECTORY."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "inventory.yaml").write_text(export_structure("volumes.csv"), encoding="utf-8")
    partial = directory / "volumes.csv.partial"
    with partial.open("w", encoding="utf-8", newline="") as out:
        for chunk in iter_volumes_csv():
            out.write(chunk)
    os.replace(partial, directory / "volumes.csv")  # a reader never sees half a file
    click.echo(f"exported to {directory}")
