"""What the browser tests do on every page: log in through the form, keep a screenshot for a human."""

from pathlib import Path

from tests.conftest import PASSWORD

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/customers")
    assert page.url.startswith(f"{base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def screenshot(page, name: str, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
