"""The e-mail a notice becomes: its HTML body inside a layout that mail clients keep, sent in the organisation's
name. Pure: Jinja, css-inline and the HTML allow-list; no database, no Flask.

Where the wrapping happens: when the outbox builds each message, from what the notice froze when it was
written (subject, language, HTML and text bodies, and the organisation's name: `Notice.sender_name`), never
from anything read at sending time. The same notice gives the same bytes every time, so the preview the
approver opens (`/notices/<id>/html`) is what each recipient receives, and a retry two days later too; the
layout itself is part of the release, like the code that sends. The body is what the privacy officer edited,
passed through the allow-list again (rows written before it existed); the layout adds no words, only the
organisation's name, the subject as the heading and the text's opening words as the inbox preview.

Styles are written once, in the layout's `<style>`, and moved onto each element by css-inline: Gmail and
Outlook drop `<style>` blocks and ignore external sheets, so the sent HTML depends on neither (nothing is
fetched either: remote stylesheets are off).
"""

from email.headerregistry import Address
from email.utils import parseaddr
from functools import cache
from pathlib import Path

import css_inline
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from markupsafe import Markup

from breachdesk.core.html import clean_html

LAYOUT = Path(__file__).resolve().parent.parent / "templates" / "notices" / "email_layout.html"
#: characters of the text body a mail client shows beside the subject in the inbox
PREHEADER_LENGTH = 140
INLINER = css_inline.CSSInliner(keep_style_tags=False, keep_link_tags=False, load_remote_stylesheets=False)


@cache
def _layout() -> Template:
    environment = Environment(
        loader=FileSystemLoader(LAYOUT.parent), autoescape=True, undefined=StrictUndefined, auto_reload=False
    )
    return environment.get_template(LAYOUT.name)


def email_html(*, subject: str, html_body: str, text_body: str, language: str, organisation: str) -> str:
    """The notice's HTML part: the sanitised body under the organisation's name, every style inline. A notice
    whose HTML was emptied has none: it goes as text only, as it was approved."""
    body = clean_html(html_body)
    if not body.strip():
        return ""
    page = _layout().render(
        subject=subject,
        body=Markup(body),  # the allow-list's output: the one HTML a person wrote
        language=language,
        organisation=organisation,
        preheader=preheader(text_body),
    )
    return INLINER.inline(page) + "\n"  # a MIME text part ends its last line: the same bytes through every backend


def preheader(text_body: str) -> str:
    """The inbox preview: the text body's opening words, cut at a word."""
    words = " ".join(text_body.split())
    if len(words) <= PREHEADER_LENGTH:
        return words
    return words[:PREHEADER_LENGTH].rsplit(" ", 1)[0] + "…"


def sender(mail_from: str, organisation: str) -> str:
    """`Organisation Name <the configured address>`: the organisation speaks, from the address that the
    deployment's SPF and DKIM vouch for (MAIL_FROM, with any name it carries replaced)."""
    name = " ".join(organisation.split())  # a line break in a header would start another header
    return str(Address(display_name=name, addr_spec=parseaddr(mail_from)[1]))
