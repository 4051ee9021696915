"""HTML that people wrote (notice templates, edited notices) passes an allow-list before it is stored,
shown or sent: headings, paragraphs, lists, emphasis, tables and links stay; scripts, styles, forms, frames
and `<meta http-equiv="refresh">` go (nh3, the Ammonia sanitiser)."""

import nh3


def clean_html(html: str) -> str:
    return nh3.clean(html)
