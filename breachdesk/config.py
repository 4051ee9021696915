"""Built-in, non-secret defaults. Override in `instance/config.py`, then with `BREACHDESK_*` variables.

Every key here is documented because an operator reads this file to learn what can be set.
"""

#: "development" generates a secret key and an audit key into the instance folder on first start; "production"
#: refuses to start without BREACHDESK_SECRET_KEY and BREACHDESK_AUDIT_KEY (README: "The audit log").
ENV = "development"

#: SQLAlchemy URL. Empty means the embedded default: a SQLite file in the instance folder.
#: PostgreSQL: postgresql+psycopg://user@host/dbname
DATABASE_URL = ""

#: Seconds to wait for a PostgreSQL server to accept a connection: a host that takes the connection and never
#: answers makes /healthz answer 503 instead of hanging a worker.
DATABASE_CONNECT_TIMEOUT = 5

#: Mail backend for notices and reminders: "file" (writes .eml under instance/outbox), "sendgrid", "smtp".
MAIL_BACKEND = "file"
#: The sender of every notice.
MAIL_FROM = "breach-notices@breachdesk.invalid"
#: file backend: the folder of .eml files (empty: instance/outbox).
OUTBOX_DIR = ""
#: sendgrid backend: the API key comes from SENDGRID_API_KEY (never from a file in the repository); the API
#: host can point at a local server in tests.
SENDGRID_API_HOST = "https://api.sendgrid.com"
#: Seconds before an API call or SMTP conversation counts as a timeout (then retried).
MAIL_TIMEOUT = 20
#: smtp backend: host, port, STARTTLS; the credentials come from SMTP_USERNAME and SMTP_PASSWORD.
SMTP_HOST = "localhost"
SMTP_PORT = 587
SMTP_STARTTLS = True
#: A CA bundle to verify the SMTP server's certificate against (empty: the system's).
SMTP_CA_FILE = ""
#: The SendGrid Event Webhook's verification key (base64 DER of the ECDSA public key, from Mail Settings).
#: Empty: the webhook refuses every request.
SENDGRID_WEBHOOK_PUBLIC_KEY = ""
#: how old (or how far ahead) a signed webhook request's timestamp may be: an older one is a replay, refused
SENDGRID_WEBHOOK_MAX_AGE_SECONDS = 600

#: Dispatcher. How fast it may send follows what the provider documents. SendGrid's v3 API
#: (https://www.twilio.com/docs/sendgrid/api-reference/how-to-use-the-sendgrid-v3-api/rate-limits) allows each
#: endpoint "a specific number of requests per refresh period", counted in every answer's X-RateLimit-Limit,
#: X-RateLimit-Remaining and X-RateLimit-Reset (the Unix time the period ends), and answers 429 once it is spent,
#: until the period ends. It publishes no number for Mail Send (the 600 requests a minute of its 2019 changelog,
#: https://twilio.com/en-us/changelog/imposing-rate-limits-on-some-sendgrid-v2-api-endpoints, exclude mail/send),
#: and its Mail Send limits (https://www.twilio.com/docs/sendgrid/api-reference/mail-send/limitations: 1,000
#: recipients and 30 MB a request) are met by one recipient a request. So no ceiling is guessed by default: the
#: provider's 429 is obeyed instead. The message waits at least its Retry-After (else until X-RateLimit-Reset, else
#: its backoff), and so does every other due message of the outbox, whichever dispatcher holds it.
#:
#: Messages claimed at a time. A round claims the next batch as soon as too few of the last one wait to fill the
#: places that came free, and ends when nothing is due; the lease below must cover a batch.
DISPATCH_BATCH = 200
#: Sends in flight at once per dispatcher: the rate is about this many per provider answer time (32 per 50 ms:
#: 640 a second, if the dispatcher's own work keeps up). Each outcome is recorded before its place takes another
#: send, so a killed dispatcher may repeat at most these. SMTP relays often cap connections per client: lower it
#: for smtp.
DISPATCH_CONCURRENCY = 32
#: A ceiling on messages per second per dispatcher, shared by its threads (0: none, the provider's 429 paces us):
#: set it to what your plan or relay allows, divided by the dispatchers you run.
DISPATCH_MAX_PER_SECOND = 0
#: How long a claim lasts: a killed dispatcher's messages are taken over after it. It must outlive a batch's
#: sending, (ceil(DISPATCH_BATCH / DISPATCH_CONCURRENCY) + 1) x MAIL_TIMEOUT + DISPATCH_BATCH /
#: DISPATCH_MAX_PER_SECOND (160 s with these defaults; the + 1: the last sends of the batch before): the app
#: refuses to start otherwise (notices/pacing.py). While sending, the dispatcher also renews it for the messages
#: it still holds, whenever a third of it has gone.
DISPATCH_LEASE_SECONDS = 180
#: Attempts before a message fails, and the exponential backoff (with jitter) between them.
DISPATCH_MAX_ATTEMPTS = 8
DISPATCH_RETRY_BASE_SECONDS = 30
DISPATCH_RETRY_MAX_SECONDS = 3600

#: Scheduler: reminders before each pending obligation's due time (h or m), the on-call address that gets
#: every reminder and escalation, the hour (UTC) after which the daily digest goes out, how often the
#: reminder tick and the dispatcher run, and whether `breachdesk serve` runs the scheduler in-process (the
#: demo shape; in production run `breachdesk scheduler` as its own process and set this to False).
REMINDER_OFFSETS = "12h,4h,1h"
ONCALL_EMAIL = ""
#: the language (en, fr) and IANA time zone the on-call address and the chat channels read alerts in
ONCALL_LANGUAGE = "en"
ONCALL_TIME_ZONE = "UTC"
#: optional incoming webhooks: alerts of incidents filed or grown go to these channels too, through the outbox.
#: Each URL is a secret: set it in the environment (BREACHDESK_SLACK_WEBHOOK_URL, BREACHDESK_TEAMS_WEBHOOK_URL) or
#: instance/config.py; https only (plain http to this machine for a local relay). No page shows them.
SLACK_WEBHOOK_URL = ""
TEAMS_WEBHOOK_URL = ""
DIGEST_HOUR_UTC = 7
SCHEDULER_TICK_SECONDS = 30
DISPATCH_INTERVAL_SECONDS = 10
SCHEDULER_IN_SERVE = True

#: The address people reach BreachDesk at: acknowledgement links in notices point there.
PUBLIC_BASE_URL = "http://127.0.0.1:5000"
#: How long a notice's acknowledgement link stays valid.
ACK_LINK_MAX_AGE_DAYS = 30
#: When true, a notice cannot be approved by the person who generated it.
NOTICE_FOUR_EYES = False

#: Where Flask-Limiter keeps its counters. memory:// is per process; use redis://... with several workers.
RATELIMIT_STORAGE_URI = "memory://"
#: Login attempts allowed per client address.
LOGIN_RATE_LIMIT = "10 per minute;50 per hour"
#: wrong passwords in a row that lock an account (whatever address they come from), and for how long
LOGIN_LOCK_AFTER = 10
LOGIN_LOCK_MINUTES = 15

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
