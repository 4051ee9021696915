"""Built-in, non-secret defaults. Override in `instance/config.py`, then with `BREACHDESK_*` variables.

Every key here is documented because an operator reads this file to learn what can be set.
"""

#: "development" generates a secret key into the instance folder on first start; "production"
#: refuses to start without BREACHDESK_SECRET_KEY.
ENV = "development"

#: SQLAlchemy URL. Empty means the embedded default: a SQLite file in the instance folder.
#: PostgreSQL: postgresql+psycopg://user@host/dbname
DATABASE_URL = ""

#: Mail backend for notices and reminders: "file" (writes .eml under instance/outbox), "sendgrid", "smtp".
MAIL_BACKEND = "file"

#: Where Flask-Limiter keeps its counters. memory:// is per process; use redis://... with several workers.
RATELIMIT_STORAGE_URI = "memory://"
#: Login attempts allowed per client address.
LOGIN_RATE_LIMIT = "10 per minute;50 per hour"

#: How many proxies in front of the app set X-Forwarded-For/-Proto (0: none). Behind one TLS proxy, 1:
#: then the login rate limit counts each client, not the proxy, and secure cookies know the scheme.
TRUSTED_PROXIES = 0

#: Rows per page in lists.
PAGE_SIZE = 25

#: Largest request body accepted (inventory uploads included), in bytes.
MAX_CONTENT_LENGTH = 256 * 1024 * 1024

#: Logging level for the stderr handler.
LOG_LEVEL = "INFO"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SAMESITE = "Lax"
WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session: an on-call form may stay open long
