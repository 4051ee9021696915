"""CSV files that people open in a spreadsheet: UTF-8 with a byte-order mark, and no cell a spreadsheet
would run as a formula."""

import csv
import io
from collections.abc import Iterable
from typing import Any

from flask import Response

#: what makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert(value: Any) -> Any:
    """Text that a spreadsheet would evaluate is shown as typed: a leading apostrophe makes it plain text.
    Numbers are left alone (a negative number is a number, not a formula)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_download(filename: str, header: list[str], rows: Iterable[Iterable[Any]]) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([inert(value) for value in row] for row in rows)
    return Response(
        "\ufeff" + buffer.getvalue(),
        mimetype="text/csv",  # the BOM makes spreadsheets read UTF-8
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )
