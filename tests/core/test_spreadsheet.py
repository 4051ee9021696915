"""CSV exports never hand a spreadsheet a formula (OWASP's CSV injection rule)."""

import pytest

from breachdesk.core.spreadsheet import inert


@pytest.mark.parametrize(
    "typed, exported",
    [
        ('=HYPERLINK("https://evil.example","Click")', '\'=HYPERLINK("https://evil.example","Click")'),
        ("+33 1 23 45 67 89", "'+33 1 23 45 67 89"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Acme = Globex", "Acme = Globex"),  # only the first character matters
        ("", ""),
        (-5, -5),  # a number is a number
        (None, None),
    ],
)
def test_cells_a_spreadsheet_would_evaluate_are_shown_as_typed(typed, exported):
    assert inert(typed) == exported
