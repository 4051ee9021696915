"""What the browser tests do on every page: log in through the form, check it with axe-core, keep a screenshot for
a human."""

from functools import cache
from pathlib import Path

from tests.conftest import PASSWORD

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/customers")
    assert page.url.startswith(f"{base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


@cache
def _axe_source() -> str:
    """axe-core as the `axe-core-python` package ships it (axe.min.js): nothing is fetched at test time."""
    from importlib.resources import files

    return files("axe_core_python").joinpath("axe.min.js").read_text(encoding="utf-8")


#: starts axe-core on the page; its answer lands in window.axeViolations
RUN_AXE = """options => { window.axeViolations = null;
  axe.run(document, options).then(r => { window.axeViolations = r.violations; }); }"""
#: rules about a page's landmarks (one <main>, all content inside landmarks): an e-mail body is shown inside the
#: mail client's own page, which has them; everything else is checked in e-mails too
PAGE_LANDMARK_RULES = ("landmark-one-main", "region")
#: whether the test installed Playwright's fake clock (page.clock), whose timers run only when the test moves it
FAKE_CLOCK = "!String(window.setTimeout).includes('[native code]')"


def axe_violations(page, not_checked: tuple[str, ...] = ()) -> list[str]:
    """Every rule of axe-core the page breaks, one line each: the rule, its impact, the first elements and how
    to fix them. Injected through the DevTools protocol, which the page's Content-Security-Policy does not govern."""
    page.evaluate(_axe_source() + "\n;0")  # the script's own last value may be a promise: answer 0, not wait
    page.evaluate(RUN_AXE, {"resultTypes": ["violations"], "rules": {rule: {"enabled": False} for rule in not_checked}})
    page.wait_for_function("window.axeViolations !== null")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(f"{' '.join(n['target'])} [{n['failureSummary'].splitlines()[-1].strip()}]" for n in v["nodes"][:3])
        for v in page.evaluate("window.axeViolations")
    ]


def assert_accessible(page, not_checked: tuple[str, ...] = ()) -> None:
    """The page as it stands breaks no axe-core rule. Not under a paused fake clock (page.clock), where axe-core's
    timers never fire: the dashboard tests stop time, and test_every_page_in_chromium checks those pages on a
    running clock."""
    if page.evaluate(FAKE_CLOCK):
        return
    found = axe_violations(page, not_checked)
    assert found == [], (page.url, found)


def screenshot(page, name: str, full_page: bool = True, not_checked: tuple[str, ...] = ()) -> Path:
    """Every page a test keeps for a human is checked with axe-core first (all its rules but `not_checked`)."""
    assert_accessible(page, not_checked)
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
