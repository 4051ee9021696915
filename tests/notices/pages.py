"""Reading the notices pages as a person does: the text they show, the rows of a table, and the review's
confirmation (open the review, tick the box, send what the page carries: the fingerprint of what was shown and
its counts)."""

import re
from html import unescape
from html.parser import HTMLParser


class _Reader(HTMLParser):
    """The confirmation form's action and hidden fields, and the rows of the table with a given class."""

    def __init__(self, table_class: str):
        super().__init__()
        self.table_class, self.action, self.fields = table_class, None, {}
        self.rows: list[list[str]] = []
        self.in_form = self.in_table = self.in_cell = False

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        classes = (found.get("class") or "").split()
        if tag == "form" and "confirm" in classes:
            self.action, self.in_form = found["action"], True
        elif tag == "input" and self.in_form and found.get("type") == "hidden":
            self.fields[found["name"]] = found.get("value") or ""
        elif tag == "table" and self.table_class in classes:
            self.in_table = True
        elif self.in_table and tag == "tr":
            self.rows.append([])
        elif self.in_table and tag == "td":
            self.in_cell = True
            self.rows[-1].append("")

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False
        elif tag == "table":
            self.in_table = False
        elif tag == "td":
            self.in_cell = False

    def handle_data(self, data):
        if self.in_cell:
            self.rows[-1][-1] += " " + data


def visible_text(page: str) -> str:
    """The page's words as a reader sees them: no markup, spaces collapsed."""
    body = re.sub(r"(?s)<(script|style|head)\b.*?</\1>", " ", page)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


def table_rows(page: str, table_class: str) -> list[list[str]]:
    """The cells of each body row of the table with that class, as text."""
    reader = _Reader(table_class)
    reader.feed(page)
    return [[" ".join(cell.split()) for cell in row] for row in reader.rows if row]


def confirmation(page: str) -> tuple[str, dict[str, str]]:
    """(action, hidden fields) of the confirmation on a review page."""
    reader = _Reader("")
    reader.feed(page)
    assert reader.action, "the page has no confirmation form"
    return reader.action, reader.fields


def confirm(client, review_url: str, tick: bool = True):
    """Open the review, then confirm it (ticked unless told otherwise); the answer, redirects followed, read to its
    end (approving all drafts streams its progress: the work runs while the page is read)."""
    action, fields = confirmation(client.get(review_url).text)
    answer = client.post(action, data={**fields, **({"confirmed": "y"} if tick else {})}, follow_redirects=True)
    answer.get_data()
    return answer
