"""`breachdesk audit verify` and `breachdesk audit checkpoint`."""

from pathlib import Path

import click
from flask.cli import AppGroup

from breachdesk.audit.chain import CheckpointError
from breachdesk.audit.services import check_checkpoint, make_checkpoint, verify_chain
from breachdesk.core.errors import DomainError
from breachdesk.extensions import db

audit_cli = AppGroup("audit", help="Check the audit log.")


@audit_cli.command("verify")
@click.option(
    "--checkpoint",
    "checkpoints",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file written by `audit checkpoint`; the log must still hold what it recorded. Repeatable.",
)
def verify(checkpoints: tuple[Path, ...]):
    """Recompute the keyed hash chain and compare it with checkpoints; exit 1 listing every problem."""
    problems = [f"checkpoint {path}: {problem}" for path in checkpoints for problem in _checkpoint_problems(path)]
    checked, breaks = verify_chain(db.session)
    for found in breaks:
        click.echo(f"event {found.event_id}: {found.reason}", err=True)
    for problem in problems:
        click.echo(problem, err=True)
    failures = []
    if breaks:
        failures.append(f"audit chain broken in {len(breaks)} place(s) over {checked} events")
    if problems:
        failures.append(f"{len(problems)} checkpoint problem(s)")
    if failures:
        raise click.ClickException("; ".join(failures))
    matched = f", matching {len(checkpoints)} checkpoint(s)" if checkpoints else ""
    click.echo(f"audit chain intact: {checked} events{matched}")


def _checkpoint_problems(path: Path) -> list[str]:
    try:
        return check_checkpoint(db.session, path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        return ["not UTF-8 text"]
    except CheckpointError as error:
        return [str(error)]


@audit_cli.command("checkpoint")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the checkpoint to this file instead of standard output.",
)
def checkpoint(out: Path | None):
    """Print a signed checkpoint of the log's head and count, to keep where the database's users cannot write."""
    try:
        text = make_checkpoint(db.session)
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    if out is None:
        click.echo(text, nl=False)
    else:
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as error:
            raise click.ClickException(f"cannot write {out}: {error.strerror}") from None
        click.echo(f"checkpoint written to {out}", err=True)
