"""Logging in: hashed passwords, audited attempts, rate limits, safe redirects, secure cookies and headers."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from breachdesk.audit.models import AuditEvent
from breachdesk.auth.models import Role, User
from breachdesk.auth.policy import GUESSABLE, MIN_LENGTH, password_problems
from breachdesk.auth.services import change_password, disable_user, set_role
from breachdesk.core.clock import now_utc
from breachdesk.core.errors import ValidationFailed
from breachdesk.extensions import db
from tests.conftest import PASSWORD, create_user, error_next_to, log_in


def test_passwords_are_stored_hashed_with_scrypt(app):
    user = create_user("alice", Role.PRIVACY)
    assert PASSWORD not in user.password_hash
    assert user.password_hash.startswith("scrypt:")


def test_login_success_and_failure_are_audited_without_the_password(client):
    create_user("alice", Role.PRIVACY)
    assert log_in(client, "alice", "wrong-Password-1").status_code == 401
    assert log_in(client, "alice").status_code == 302
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("login.%")).order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.entity_id, e.actor) for e in events] == [
        ("login.failed", "alice", "anonymous"),
        ("login.success", "alice", "user:alice"),
    ]
    assert events[0].after == {"reason": "bad password"}
    assert all(PASSWORD not in str(e.after) for e in events)


def test_unknown_user_and_wrong_password_get_the_same_answer(client):
    create_user("alice", Role.PRIVACY)
    unknown = log_in(client, "nobody", PASSWORD)
    wrong = log_in(client, "alice", "not-the-Password-9")
    assert unknown.status_code == wrong.status_code == 401
    assert b"Unknown user name or wrong password." in unknown.data and b"Unknown user name" in wrong.data


def test_disabled_user_cannot_log_in_and_is_logged_out(app, client):
    user = create_user("bob", Role.RESPONDER)
    assert log_in(client, "bob").status_code == 302
    user.disabled_at = now_utc()
    db.session.commit()
    assert client.get("/customers").status_code == 302  # the session no longer counts
    assert log_in(client, "bob").status_code == 401


def test_login_is_rate_limited_per_client(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    with app.app_context():
        client = app.test_client()
        codes = [log_in(client, "nobody", "Wrong-password-1").status_code for _ in range(4)]
        assert codes == [401, 401, 401, 429]
        assert b"Too many attempts" in log_in(client, "nobody").data


def test_behind_a_trusted_proxy_the_rate_limit_counts_each_client(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="2 per minute", TRUSTED_PROXIES=1)
    with app.app_context():
        client = app.test_client()
        first = {"X-Forwarded-For": "203.0.113.7"}
        codes = [
            client.post("/login", data={"username": "x", "password": "y"}, headers=first).status_code for _ in range(3)
        ]
        assert codes == [401, 401, 429]
        other = client.post(
            "/login", data={"username": "x", "password": "y"}, headers={"X-Forwarded-For": "198.51.100.9"}
        )
        assert other.status_code == 401  # another client behind the same proxy is not locked out


def test_after_login_only_same_origin_redirects_are_followed(client):
    create_user("alice", Role.PRIVACY)
    response = client.post("/login?next=https://evil.example/phish", data={"username": "alice", "password": PASSWORD})
    assert response.location == "/"
    client.post("/logout")
    response = client.post("/login?next=//evil.example", data={"username": "alice", "password": PASSWORD})
    assert response.location == "/"
    client.post("/logout")
    response = client.post("/login?next=/systems", data={"username": "alice", "password": PASSWORD})
    assert response.location == "/systems"


@pytest.mark.parametrize(
    "target", ["/%0d%0aSet-Cookie:%20x=1", "/%0aevil", "/%5C%5Cevil.example", "/%5Cevil.example", "/%09/evil.example"]
)
def test_a_next_with_control_characters_or_backslashes_goes_home(client, target):
    create_user("alice", Role.PRIVACY)
    response = client.post(f"/login?next={target}", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 302 and response.location == "/"


def test_forms_refuse_posts_without_a_csrf_token(app_factory):
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        create_user("alice", Role.ADMIN)
        client = app.test_client()
        response = client.post("/login", data={"username": "alice", "password": PASSWORD})
        assert response.status_code == 400
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "login.success")) is None


def test_pages_carry_security_headers_and_cookies_are_httponly_samesite(client):
    create_user("alice", Role.PRIVACY)
    response = log_in(client, "alice")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/customers")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"


def test_user_admin_page_creates_users_with_the_policy(login, client):
    login(Role.ADMIN)
    weak = client.post(
        "/users/new",
        data={
            "username": "carol",
            "email": "carol@example.com",
            "role": "viewer",
            "time_zone": "Europe/Paris",
            "password": "short1!",
        },
    )
    assert error_next_to(weak.text, "password") == "needs at least 12 characters"
    assert db.session.scalar(select(User).where(User.username == "carol")) is None
    ok = client.post(
        "/users/new",
        data={
            "username": "carol",
            "email": "carol@example.com",
            "role": "viewer",
            "time_zone": "Europe/Paris",
            "password": "a-Long-enough-pass-1",
        },
    )
    assert ok.status_code == 302
    assert db.session.scalar(select(User).where(User.username == "carol")).role == Role.VIEWER


@given(
    st.text(min_size=MIN_LENGTH).filter(
        lambda p: any(c.isalpha() for c in p) and any(c.isdigit() for c in p) and not all(c.isalnum() for c in p)
    )
)
def test_long_passwords_with_letter_digit_and_symbol_meet_the_composition_rules(password):
    assert password_problems(password) in ([], [GUESSABLE])  # what remains is how guessable it is


@pytest.mark.parametrize("password", ["Password123!", "Qwertyuiop1!", "alice-alice-1!", "Welcome2026!", "P@ssw0rd1234"])
def test_common_or_guessable_passwords_are_refused(password):
    assert password_problems(password, ("alice", "alice@acme.example")) == [GUESSABLE]


def test_an_account_cannot_be_given_a_common_password(app):
    alice = create_user("alice", Role.PRIVACY)
    with pytest.raises(ValidationFailed, match="password: needs to be harder to guess"):
        change_password(alice, "Password123!")


@given(st.text(max_size=MIN_LENGTH - 1))
def test_short_passwords_never_pass(password):
    assert f"at least {MIN_LENGTH} characters" in password_problems(password)


def captured_session(app, username: str) -> str:
    """Log in on a client of its own and keep a copy of its session cookie, as a thief would."""
    thief = app.test_client()
    assert log_in(thief, username).status_code == 302
    return thief.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def replayed(app, cookie: str) -> int:
    """A request of its own, as in production: its own app context, so nothing loaded earlier is reused."""
    other = app.test_client()
    other.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    with app.app_context():
        return other.get("/customers").status_code


@pytest.mark.parametrize("ending", ["logout", "new password", "new role", "disabled"])
def test_a_session_cookie_captured_earlier_stops_working_when_the_session_ends(app, ending):
    alice = create_user("alice", Role.PRIVACY)
    cookie = captured_session(app, "alice")
    assert replayed(app, cookie) == 200
    if ending == "logout":
        owner = app.test_client()
        owner.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
        owner.post("/logout")
    else:
        change = {
            "new password": lambda: change_password(alice, "an0ther-Long-secret!"),
            "new role": lambda: set_role(alice, Role.VIEWER),
            "disabled": lambda: disable_user(alice),
        }
        change[ending]()
        db.session.commit()
    assert replayed(app, cookie) == 302  # to the login page


def test_a_role_saved_unchanged_keeps_the_session(app):
    alice = create_user("alice", Role.PRIVACY)
    cookie = captured_session(app, "alice")
    set_role(alice, Role.PRIVACY)
    db.session.commit()
    assert replayed(app, cookie) == 200


def test_ten_wrong_passwords_in_a_row_lock_the_account_for_a_while_audited(client, app):
    create_user("alice", Role.PRIVACY)
    start = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        for _ in range(9):
            assert log_in(client, "alice", "wrong-Guess-123!").status_code == 401
        assert log_in(client, "alice").status_code == 302  # the right one resets the count
        client.post("/logout")
        for _ in range(10):
            assert log_in(client, "alice", "wrong-Guess-123!").status_code == 401
        assert log_in(client, "alice").status_code == 401  # locked: even the right password is refused
    with time_machine.travel(start + timedelta(minutes=14, seconds=59), tick=False):
        assert log_in(client, "alice").status_code == 401
    with time_machine.travel(start + timedelta(minutes=15), tick=False):
        assert log_in(client, "alice").status_code == 302
    reasons = [
        e.after["reason"]
        for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "login.failed").order_by(AuditEvent.id)
        )
    ]
    assert reasons == ["bad password"] * 18 + ["bad password; account locked", "locked", "locked"]
