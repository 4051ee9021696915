"""Seeded synthetic inventory for benchmarks: `inventory.yaml` + `volumes.csv` in the import format.

Usable as a module::

    from tests.bench.generate_inventory import generate
    structure_path, volumes_path = generate(directory, customers=10_000, volume_rows=1_000_000, seed=42)
    generate(directory, customers=10_000, volume_rows=1_000_000, systems=500, activities=2_000)  # impact bench

or as a script::

    python tests/bench/generate_inventory.py OUTDIR --customers 10000 --volume-rows 1000000 --seed 42
    python tests/bench/generate_inventory.py OUTDIR --systems 500 --activities 2000

The same arguments always give byte-identical files (each part draws from its own `random.Random`
seeded from `seed` and a label, so changing how one part is generated leaves the others alone).

What it writes (see breachdesk/inventory/fileformat.py and importer.py for the rules it obeys):

* `customers` keys `c00001`... (zero-padded to at least five digits), spread over EU countries with
  a valid IANA time zone, language `fr` or `en`, notice terms, and 1-3 contacts (security, dpo,
  legal) whose e-mail addresses are on `*.example.com`.
* `SYSTEMS`: 30 systems, ours and sub-processors, with hosting country and region.
* `ACTIVITIES`: 40 processing activities, 36 where we are processor, 4 where we are controller,
  each with valid Fides data categories and data subject categories. Processor activities do not
  list their customers: each volume row links its customer (the importer allows that).
* `systems=` / `activities=` above those 30 and 40 (the defaults, which give exactly the files
  described here): synthetic systems (our shards, caches, services...; about 40 % sub-processors,
  some hosted in the US or the UK) and synthetic activities (about 5 % controller), appended after
  the hand-written ones. Each synthetic activity runs on 1-4 systems drawn from all of them and
  holds 2-5 data categories and 1-6 subject categories taken from those the hand-written
  activities use, so 20 systems out of 500 reach about a tenth of 2,000 activities. The
  hand-written part of the files does not change; only the volume rows spread over more pairs.
* `volumes.csv`: exactly `volume_rows` rows. Controller activities get one row per (activity,
  subject category), with an empty customer; the rest are processor rows, unique per (customer,
  processor activity, subject category declared on that activity). Customers get different
  numbers of rows (about half to one and a half times the mean, capped by the number of processor
  (activity, subject) pairs), so the rows cannot exceed customers x processor pairs.

The CSV is streamed customer by customer and the YAML section by section: memory stays flat
whatever the sizes.
"""

import argparse
import csv
import random
import re
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

FORMAT = "breachdesk-inventory/1"
STRUCTURE_NAME = "inventory.yaml"
VOLUMES_NAME = "volumes.csv"
VOLUME_COLUMNS = ("customer", "activity", "data_subject_category", "data_subjects", "records")

# --- customers --------------------------------------------------------------------------------

#: country -> (IANA time zones, share of French-speaking customers, legal forms), EU members only.
COUNTRIES: dict[str, tuple[tuple[str, ...], float, tuple[str, ...]]] = {
    "FR": (("Europe/Paris",), 1.0, ("SAS", "SARL", "SA")),
    "DE": (("Europe/Berlin",), 0.0, ("GmbH", "AG", "KG")),
    "BE": (("Europe/Brussels",), 0.5, ("SRL", "BV", "SA")),
    "NL": (("Europe/Amsterdam",), 0.0, ("B.V.", "N.V.")),
    "LU": (("Europe/Luxembourg",), 0.8, ("S.à r.l.", "S.A.")),
    "IT": (("Europe/Rome",), 0.0, ("S.r.l.", "S.p.A.")),
    "ES": (("Europe/Madrid", "Atlantic/Canary"), 0.0, ("S.L.", "S.A.")),
    "PT": (("Europe/Lisbon", "Atlantic/Madeira"), 0.0, ("Lda.", "S.A.")),
    "IE": (("Europe/Dublin",), 0.0, ("Ltd", "DAC")),
    "AT": (("Europe/Vienna",), 0.0, ("GmbH",)),
    "SE": (("Europe/Stockholm",), 0.0, ("AB",)),
    "DK": (("Europe/Copenhagen",), 0.0, ("ApS", "A/S")),
    "FI": (("Europe/Helsinki",), 0.0, ("Oy",)),
    "PL": (("Europe/Warsaw",), 0.0, ("sp. z o.o.", "S.A.")),
    "CZ": (("Europe/Prague",), 0.0, ("s.r.o.",)),
    "GR": (("Europe/Athens",), 0.0, ("A.E.", "I.K.E.")),
}
#: relative number of customers per country (a French SaaS: mostly France and its neighbours)
COUNTRY_WEIGHTS = {
    "FR": 30,
    "DE": 12,
    "BE": 8,
    "NL": 7,
    "LU": 2,
    "IT": 8,
    "ES": 8,
    "PT": 3,
    "IE": 3,
    "AT": 3,
    "SE": 3,
    "DK": 2,
    "FI": 2,
    "PL": 5,
    "CZ": 2,
    "GR": 2,
}

NAME_STEMS = (
    "Lemaire",
    "Dubois",
    "Vidal",
    "Roux",
    "Aubert",
    "Fontaine",
    "Garnier",
    "Moreau",
    "Weber",
    "Schmidt",
    "Nordlicht",
    "Bergmann",
    "Rossi",
    "Bianchi",
    "Ferraro",
    "García",
    "Navarro",
    "Ortega",
    "Silva",
    "Costa",
    "Murphy",
    "Byrne",
    "Janssens",
    "Peeters",
    "De Vries",
    "Bakker",
    "Lindqvist",
    "Nyberg",
    "Hansen",
    "Virtanen",
    "Nowak",
    "Kowalski",
    "Novák",
    "Papadakis",
    "Horizon",
    "Atlas",
    "Azur",
    "Boréal",
    "Cobalt",
    "Helios",
    "Lumen",
    "Orion",
    "Polaris",
    "Sequoia",
)
SECTORS = (
    "Optique",
    "Boulangerie",
    "Dental Clinic",
    "Logistics",
    "Möbelhaus",
    "Moda",
    "Travel",
    "Immobilier",
    "Pharmacy",
    "Fitness",
    "Insurance",
    "Energy",
    "Telecom",
    "Bank",
    "Hotels",
    "Retail",
    "Motors",
    "Home Care",
    "Veterinary",
    "Ticketing",
    "Mobility",
    "Foods",
    "Cosmetics",
    "Bikes",
    "Academy",
    "Rentals",
    "Outdoor",
    "Books",
    "Audio",
    "Pets",
)
FIRST_NAMES = (
    "Julie",
    "Marc",
    "Claire",
    "Hugo",
    "Nadia",
    "Antoine",
    "Sophie",
    "Jonas",
    "Anna",
    "Lucía",
    "Marco",
    "Siobhan",
    "Oliver",
    "Emma",
    "Étienne",
    "Léa",
    "Lukas",
    "Giulia",
    "Pedro",
    "Inês",
    "Sanne",
    "Daan",
    "Elin",
    "Mikkel",
    "Aino",
    "Zofia",
    "Tomáš",
    "Eleni",
    "Camille",
    "Noah",
)
LAST_NAMES = (
    "Martin",
    "Bernard",
    "Lefèvre",
    "Müller",
    "Schneider",
    "Fischer",
    "Ricci",
    "Romano",
    "López",
    "Fernández",
    "Santos",
    "Ferreira",
    "O'Brien",
    "Kelly",
    "Maes",
    "Jacobs",
    "Visser",
    "Smit",
    "Johansson",
    "Larsen",
    "Korhonen",
    "Wiśniewski",
    "Dvořák",
    "Nikolaidis",
    "Girard",
    "Keller",
)
CONTACT_ROLES = ("security", "dpo", "legal")

# --- systems ----------------------------------------------------------------------------------

#: (key, name, is_subprocessor, vendor, hosting_country, hosting_region, encrypted_at_rest, description)
SYSTEMS: tuple[tuple[str, str, bool, str, str, str, bool, str], ...] = (
    (
        "core-db",
        "Core database (PostgreSQL)",
        False,
        "Amazon Web Services",
        "IE",
        "eu-west-1",
        True,
        "Primary relational database; encrypted volumes and snapshots.",
    ),
    (
        "core-db-replica",
        "Core database read replica",
        False,
        "Amazon Web Services",
        "DE",
        "eu-central-1",
        True,
        "Read replica for reporting queries.",
    ),
    (
        "object-store",
        "Object storage (S3)",
        False,
        "Amazon Web Services",
        "FR",
        "eu-west-3",
        True,
        "Attachments, exports and uploaded files.",
    ),
    (
        "backup-vault",
        "Backup vault",
        False,
        "Amazon Web Services",
        "DE",
        "eu-central-1",
        True,
        "Encrypted nightly backups kept 35 days.",
    ),
    (
        "search-cluster",
        "Search cluster (OpenSearch)",
        False,
        "Amazon Web Services",
        "IE",
        "eu-west-1",
        True,
        "Full-text index of conversations and contacts.",
    ),
    (
        "cache",
        "Session cache (Redis)",
        False,
        "Amazon Web Services",
        "IE",
        "eu-west-1",
        False,
        "Short-lived sessions and rate-limit counters.",
    ),
    (
        "event-bus",
        "Event bus (Kafka)",
        False,
        "Amazon Web Services",
        "IE",
        "eu-west-1",
        True,
        "Internal events, kept 7 days.",
    ),
    (
        "data-warehouse",
        "Data warehouse",
        False,
        "Amazon Web Services",
        "IE",
        "eu-west-1",
        True,
        "Aggregated statistics for customers' dashboards.",
    ),
    (
        "accounts-db",
        "Accounts and staff logins",
        False,
        "Amazon Web Services",
        "IE",
        "eu-west-1",
        True,
        "Customer organisations' staff accounts and login data.",
    ),
    ("crm", "Sales CRM", False, "", "FR", "Paris", False, "Prospects and customer relationship management."),
    (
        "accounting",
        "Accounting and supplier payments",
        False,
        "",
        "FR",
        "Paris",
        True,
        "Supplier records with banking details (encrypted).",
    ),
    ("hr-files", "HR file server", False, "", "FR", "Paris", True, "Employee records and payroll exports."),
    (
        "twilio",
        "Twilio SMS relay",
        True,
        "Twilio Inc.",
        "US",
        "us-east",
        True,
        "Relays SMS; stores metadata only, not message content.",
    ),
    (
        "vonage",
        "Vonage SMS relay",
        True,
        "Vonage",
        "US",
        "us-east",
        True,
        "Relays SMS; stores metadata only, not message content.",
    ),
    (
        "sendgrid",
        "SendGrid e-mail delivery",
        True,
        "Twilio SendGrid",
        "US",
        "us-east",
        True,
        "Transactional and campaign e-mail.",
    ),
    ("mailjet", "Mailjet e-mail delivery", True, "Mailjet SAS", "FR", "eu-west", True, "Campaign e-mail."),
    (
        "mixpanel",
        "Mixpanel product analytics",
        True,
        "Mixpanel Inc.",
        "US",
        "us",
        True,
        "Usage statistics from pseudonymous event data.",
    ),
    (
        "stripe",
        "Stripe payments",
        True,
        "Stripe Payments Europe Ltd",
        "IE",
        "eu",
        True,
        "Card payments and payment links.",
    ),
    ("adyen", "Adyen payments", True, "Adyen N.V.", "NL", "eu", True, "Card payments for large accounts."),
    ("zendesk", "Zendesk helpdesk", True, "Zendesk Inc.", "DE", "eu-central-1", True, "Support tickets."),
    (
        "datadog",
        "Datadog monitoring",
        True,
        "Datadog Inc.",
        "DE",
        "eu1",
        True,
        "Logs and traces; personal data masked at source.",
    ),
    (
        "sentry",
        "Sentry error tracking",
        True,
        "Functional Software Inc.",
        "DE",
        "de",
        True,
        "Error reports; request bodies scrubbed.",
    ),
    ("ovh-hosting", "OVHcloud bare metal", True, "OVH SAS", "FR", "gra", True, "Video and call recording media."),
    (
        "scaleway-gpu",
        "Scaleway GPU instances",
        True,
        "Scaleway SAS",
        "FR",
        "fr-par",
        True,
        "Speech-to-text and chatbot inference.",
    ),
    (
        "hetzner-archive",
        "Hetzner archive storage",
        True,
        "Hetzner Online GmbH",
        "DE",
        "fsn1",
        True,
        "Cold archive of closed accounts before deletion.",
    ),
    ("docusign", "DocuSign e-signature", True, "DocuSign Inc.", "DE", "eu", True, "Signature envelopes."),
    (
        "onfido",
        "Onfido identity checks",
        True,
        "Onfido Ltd",
        "GB",
        "eu",
        True,
        "Identity document and selfie verification.",
    ),
    ("zoom", "Zoom video", True, "Zoom Video Communications", "US", "us", True, "Video calls and recordings."),
    (
        "google-workspace",
        "Google Workspace",
        True,
        "Google Ireland Ltd",
        "IE",
        "europe",
        True,
        "Staff e-mail and documents.",
    ),
    (
        "personio",
        "Personio HR",
        True,
        "Personio SE & Co. KG",
        "DE",
        "eu-central-1",
        True,
        "HR administration and recruitment.",
    ),
)
#: hosting countries outside the EEA: an activity using such a system declares a transfer
EEA = {
    "AT",
    "BE",
    "BG",
    "HR",
    "CY",
    "CZ",
    "DK",
    "EE",
    "FI",
    "FR",
    "DE",
    "GR",
    "HU",
    "IE",
    "IT",
    "LV",
    "LT",
    "LU",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SK",
    "SI",
    "ES",
    "SE",
    "IS",
    "LI",
    "NO",
}
SAFEGUARDS = {"US": "EU-US Data Privacy Framework and standard contractual clauses", "GB": "Adequacy decision (UK)"}

# --- activities -------------------------------------------------------------------------------

#: (key, name, role, legal basis, retention days or None, data categories, data subject categories);
#: every category is a key of fideslang's DEFAULT_TAXONOMY.
ACTIVITIES: tuple[tuple[str, str, str, str, int | None, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "conversations",
        "Customer conversations",
        "processor",
        "contract",
        6,
        ("user.content.private", "user.content.self_image", "user.contact.phone_number", "user.name"),
        ("customer", "prospect", "visitor", "anonymous_user", "patient", "passenger"),
    ),
    (
        "contact-directory",
        "Contact directory",
        "processor",
        "contract",
        None,
        ("user.contact.email", "user.contact.phone_number", "user.name", "user.unique_id"),
        ("customer", "prospect", "visitor", "anonymous_user", "patient", "supplier_vendor", "passenger"),
    ),
    (
        "usage-analytics",
        "Usage analytics",
        "processor",
        "legitimate_interests",
        395,
        (
            "user.device.ip_address",
            "user.device.device_id",
            "user.behavior.browsing_history",
            "user.unique_id.pseudonymous",
        ),
        ("customer", "prospect", "visitor", "anonymous_user", "employee"),
    ),
    (
        "location-features",
        "Location-aware replies",
        "processor",
        "consent",
        395,
        ("user.location.imprecise", "user.location.precise"),
        ("customer", "visitor", "commuter", "passenger"),
    ),
    (
        "email-campaigns",
        "E-mail campaigns",
        "processor",
        "consent",
        1095,
        ("user.contact.email", "user.name", "user.behavior.media_consumption"),
        ("customer", "prospect", "shareholder", "visitor"),
    ),
    (
        "sms-notifications",
        "SMS notifications",
        "processor",
        "contract",
        90,
        ("user.contact.phone_number", "user.name"),
        ("customer", "prospect", "patient", "passenger", "visitor", "commuter", "employee"),
    ),
    (
        "appointment-booking",
        "Appointment booking",
        "processor",
        "contract",
        730,
        ("user.name", "user.contact.email", "user.contact.phone_number"),
        ("customer", "patient", "visitor", "prospect", "next_of_kin"),
    ),
    (
        "loyalty-programme",
        "Loyalty programme",
        "processor",
        "contract",
        1095,
        ("user.name", "user.contact.email", "user.behavior.purchase_history", "user.demographic.date_of_birth"),
        ("customer", "prospect", "visitor"),
    ),
    (
        "order-tracking",
        "Order tracking",
        "processor",
        "contract",
        365,
        ("user.name", "user.contact.address", "user.contact.phone_number"),
        ("customer", "supplier_vendor", "prospect"),
    ),
    (
        "payment-links",
        "Payment links",
        "processor",
        "contract",
        3650,
        ("user.name", "user.financial.credit_card", "user.payment"),
        ("customer", "supplier_vendor"),
    ),
    (
        "helpdesk-tickets",
        "Helpdesk tickets",
        "processor",
        "contract",
        730,
        ("user.name", "user.contact.email", "user.content.private"),
        ("customer", "prospect", "employee", "consultant", "patient", "visitor", "passenger"),
    ),
    (
        "chatbot-transcripts",
        "Chatbot transcripts",
        "processor",
        "legitimate_interests",
        30,
        ("user.content.private", "user.unique_id.pseudonymous"),
        ("customer", "prospect", "visitor", "anonymous_user", "patient"),
    ),
    (
        "surveys",
        "Satisfaction surveys",
        "processor",
        "legitimate_interests",
        365,
        ("user.contact.email", "user.content.private", "user.demographic.age_range"),
        ("customer", "visitor", "patient", "trainee", "employee", "passenger"),
    ),
    (
        "web-forms",
        "Web forms",
        "processor",
        "consent",
        365,
        ("user.name", "user.contact.email", "user.contact.phone_number", "user.contact.organization"),
        ("customer", "prospect", "job_applicant", "visitor", "patient", "supplier_vendor"),
    ),
    (
        "recruitment-pipeline",
        "Recruitment pipeline",
        "processor",
        "legitimate_interests",
        730,
        ("user.name", "user.contact.email", "user.job_title", "user.workplace"),
        ("job_applicant", "trainee", "consultant"),
    ),
    (
        "hr-onboarding",
        "Staff onboarding",
        "processor",
        "contract",
        1825,
        (
            "user.name",
            "user.contact.address",
            "user.government_id.national_identification_number",
            "user.financial.bank_account",
        ),
        ("employee", "trainee", "next_of_kin"),
    ),
    (
        "shift-scheduling",
        "Shift scheduling",
        "processor",
        "contract",
        365,
        ("user.name", "user.contact.phone_number", "user.workplace"),
        ("employee", "consultant", "trainee"),
    ),
    (
        "patient-reminders",
        "Patient reminders",
        "processor",
        "contract",
        365,
        ("user.name", "user.contact.phone_number", "user.health_and_medical"),
        ("patient", "next_of_kin"),
    ),
    (
        "telehealth-sessions",
        "Telehealth sessions",
        "processor",
        "contract",
        7300,
        ("user.name", "user.health_and_medical.record_id", "user.content.private", "user.health_and_medical"),
        ("patient", "next_of_kin"),
    ),
    (
        "visitor-wifi",
        "Guest Wi-Fi portal",
        "processor",
        "consent",
        365,
        ("user.device.ip_address", "user.device.device_id", "user.contact.email"),
        ("visitor", "anonymous_user"),
    ),
    (
        "event-registration",
        "Event registration",
        "processor",
        "contract",
        365,
        ("user.name", "user.contact.email", "user.contact.organization", "user.job_title"),
        ("customer", "prospect", "visitor", "shareholder", "employee", "consultant"),
    ),
    (
        "call-recording",
        "Call recording",
        "processor",
        "legitimate_interests",
        90,
        ("user.content.private", "user.biometric.voice", "user.contact.phone_number"),
        ("customer", "prospect", "employee"),
    ),
    (
        "video-calls",
        "Video calls",
        "processor",
        "contract",
        30,
        ("user.content.self_image", "user.content.private", "user.name"),
        ("customer", "prospect", "employee", "consultant", "patient", "job_applicant"),
    ),
    (
        "file-sharing",
        "File sharing",
        "processor",
        "contract",
        365,
        ("user.content.private", "user.name", "user.contact.email"),
        ("customer", "employee", "supplier_vendor", "consultant", "prospect", "trainee"),
    ),
    (
        "e-signature",
        "E-signature",
        "processor",
        "contract",
        3650,
        ("user.name", "user.contact.email", "user.government_id.passport_number"),
        ("customer", "supplier_vendor", "shareholder", "employee"),
    ),
    (
        "identity-verification",
        "Identity verification",
        "processor",
        "legal_obligation",
        1825,
        (
            "user.government_id.passport_number",
            "user.government_id.drivers_license_number",
            "user.biometric",
            "user.demographic.date_of_birth",
        ),
        ("customer", "passenger", "shareholder", "employee"),
    ),
    (
        "fraud-screening",
        "Fraud screening",
        "processor",
        "legitimate_interests",
        395,
        ("user.device.ip_address", "user.behavior.purchase_history", "user.financial.credit_card"),
        ("customer", "anonymous_user"),
    ),
    (
        "reviews-moderation",
        "Reviews moderation",
        "processor",
        "legitimate_interests",
        730,
        ("user.content.public", "user.name", "user.unique_id"),
        ("customer", "visitor", "anonymous_user"),
    ),
    (
        "social-inbox",
        "Social media inbox",
        "processor",
        "legitimate_interests",
        180,
        ("user.social", "user.content.private", "user.name"),
        ("customer", "prospect", "visitor"),
    ),
    (
        "push-notifications",
        "Push notifications",
        "processor",
        "consent",
        180,
        ("user.device.device_id", "user.device.cookie_id", "user.privacy_preferences"),
        ("customer", "anonymous_user", "commuter", "passenger", "visitor"),
    ),
    (
        "travel-alerts",
        "Travel alerts",
        "processor",
        "contract",
        90,
        ("user.name", "user.contact.phone_number", "user.location.precise"),
        ("passenger", "commuter"),
    ),
    (
        "public-consultations",
        "Public consultations",
        "processor",
        "public_task",
        1095,
        ("user.name", "user.contact.address.postal_code", "user.content.public"),
        ("citizen_voter", "visitor"),
    ),
    (
        "shareholder-meetings",
        "Shareholder meetings",
        "processor",
        "legal_obligation",
        3650,
        ("user.name", "user.contact.address", "user.financial"),
        ("shareholder",),
    ),
    (
        "backups",
        "Backups",
        "processor",
        "contract",
        35,
        ("user.name", "user.contact.email", "user.content.private", "user.health_and_medical"),
        (
            "customer",
            "prospect",
            "employee",
            "patient",
            "visitor",
            "supplier_vendor",
            "job_applicant",
            "passenger",
            "anonymous_user",
            "next_of_kin",
            "shareholder",
        ),
    ),
    (
        "audit-logs",
        "Audit logs",
        "processor",
        "legal_obligation",
        365,
        ("user.account.username", "user.device.ip_address", "system.operations"),
        ("employee", "consultant", "customer", "trainee", "supplier_vendor"),
    ),
    (
        "data-exports",
        "Data exports",
        "processor",
        "contract",
        7,
        ("user.name", "user.contact.email", "user.contact.phone_number"),
        ("customer", "prospect", "employee", "patient", "supplier_vendor"),
    ),
    (
        "own-staff",
        "Our staff and HR",
        "controller",
        "contract",
        1825,
        (
            "user.name",
            "user.contact.address",
            "user.financial.bank_account",
            "user.government_id.national_identification_number",
            "user.job_title",
        ),
        ("employee", "trainee", "next_of_kin"),
    ),
    (
        "own-prospection",
        "Prospection and newsletters",
        "controller",
        "consent",
        1095,
        ("user.name", "user.contact.email", "user.contact.phone_number", "user.job_title", "user.contact.organization"),
        ("prospect", "customer"),
    ),
    (
        "own-suppliers",
        "Supplier management",
        "controller",
        "contract",
        3650,
        ("user.name", "user.contact.email", "user.financial.bank_account"),
        ("supplier_vendor", "consultant"),
    ),
    (
        "own-website",
        "Our website and trials",
        "controller",
        "legitimate_interests",
        395,
        ("user.device.ip_address", "user.device.cookie_id", "user.behavior.browsing_history"),
        ("visitor", "anonymous_user"),
    ),
)
#: systems an activity may run on, by kind: our own stores, then sub-processors per purpose
_OWN_SYSTEMS = (
    "core-db",
    "core-db-replica",
    "object-store",
    "backup-vault",
    "search-cluster",
    "cache",
    "event-bus",
    "data-warehouse",
)
_SUBPROCESSORS = tuple(s[0] for s in SYSTEMS if s[2])

# --- synthetic systems and activities beyond the hand-written ones (systems=, activities=) ------

#: our own kinds of store or service: (key stem, name, operator, [(hosting country, region)])
_OWN_KINDS: tuple[tuple[str, str, str, tuple[tuple[str, str], ...]], ...] = (
    ("pg-shard", "PostgreSQL shard", "Amazon Web Services", (("IE", "eu-west-1"), ("DE", "eu-central-1"))),
    ("redis", "Redis cache", "Amazon Web Services", (("IE", "eu-west-1"), ("FR", "eu-west-3"))),
    ("bucket", "Object storage bucket", "Amazon Web Services", (("FR", "eu-west-3"), ("IE", "eu-west-1"))),
    ("kafka", "Kafka topic group", "Amazon Web Services", (("IE", "eu-west-1"),)),
    ("svc", "Internal service", "Amazon Web Services", (("IE", "eu-west-1"), ("DE", "eu-central-1"))),
    ("etl", "ETL pipeline", "Amazon Web Services", (("IE", "eu-west-1"),)),
    ("search", "Search index", "Amazon Web Services", (("IE", "eu-west-1"),)),
    ("fileshare", "Office file share", "", (("FR", "Paris"),)),
)
#: what a sub-processor does for us: (key part, name)
_SUBPROCESSOR_PURPOSES = (
    ("email", "e-mail delivery"),
    ("sms", "SMS relay"),
    ("analytics", "product analytics"),
    ("payments", "payments"),
    ("helpdesk", "helpdesk"),
    ("monitoring", "monitoring"),
    ("storage", "cloud storage"),
    ("ai", "AI inference"),
    ("signature", "e-signature"),
    ("identity", "identity checks"),
    ("video", "video"),
    ("translation", "translation"),
)
_VENDOR_STEMS = (
    "Acme",
    "Nimbus",
    "Quanta",
    "Vertex",
    "Kestrel",
    "Lumio",
    "Brightwave",
    "Corvid",
    "Datalane",
    "Eurostack",
    "Fjord",
    "Gridline",
    "Halcyon",
    "Ionic",
    "Juniper",
    "Keystone",
)
_VENDOR_FORMS = ("Ltd", "SAS", "GmbH", "Inc.", "B.V.")
#: sub-processors' hosting, weighted: mostly in the EEA, some transfers
_VENDOR_HOSTING = (
    (("FR", "eu-west"), 4),
    (("DE", "eu-central"), 4),
    (("IE", "eu"), 3),
    (("NL", "eu"), 2),
    (("US", "us-east"), 2),
    (("GB", "london"), 1),
)
#: product modules and what an activity does in them: keys and names of synthetic activities
_MODULES = (
    "booking",
    "billing",
    "chat",
    "crm",
    "marketing",
    "helpdesk",
    "hr",
    "health",
    "travel",
    "retail",
    "events",
    "loyalty",
    "forms",
    "surveys",
    "voice",
    "kiosk",
    "portal",
    "fleet",
    "education",
    "insurance",
)
_PURPOSES = (
    ("exports", "exports"),
    ("reminders", "reminders"),
    ("analytics", "analytics"),
    ("archive", "archive"),
    ("sync", "synchronisation"),
    ("notifications", "notifications"),
    ("reports", "reports"),
    ("search", "search"),
    ("imports", "imports"),
    ("webhooks", "webhooks"),
    ("audit", "audit trail"),
    ("recommend", "recommendations"),
)
_BASES = ("contract",) * 5 + ("legitimate_interests",) * 2 + ("consent",) * 2 + ("legal_obligation", "public_task")
_RETENTIONS = (None, 7, 30, 90, 180, 365, 395, 730, 1095, 1825, 3650)
#: valid Fides keys only: the ones the hand-written activities use
_CATEGORY_POOL = tuple(sorted({c for a in ACTIVITIES for c in a[5]}))
_SUBJECT_POOL = tuple(sorted({s for a in ACTIVITIES for s in a[6]}))
#: the share of synthetic activities where we are controller
_CONTROLLER_SHARE = 0.05


def _check_counts(systems: int, activities: int) -> None:
    if systems < len(SYSTEMS):
        raise ValueError(f"systems must be at least {len(SYSTEMS)} (the hand-written ones); got {systems}")
    if activities < len(ACTIVITIES):
        raise ValueError(f"activities must be at least {len(ACTIVITIES)} (the hand-written ones); got {activities}")


def all_systems(systems: int = len(SYSTEMS), seed: int = 42) -> tuple[tuple, ...]:
    """SYSTEMS followed by `systems - 30` synthetic ones (same tuple shape); keys are unique."""
    _check_counts(systems, len(ACTIVITIES))
    rng = _rng(seed, "extra-systems")
    extra = []
    for number in range(len(SYSTEMS) + 1, systems + 1):
        if rng.random() < 0.4:
            purpose, label = rng.choice(_SUBPROCESSOR_PURPOSES)
            vendor = f"{rng.choice(_VENDOR_STEMS)} {rng.choice(_VENDOR_FORMS)}"
            places, weights = zip(*_VENDOR_HOSTING, strict=True)
            country, region = rng.choices(places, weights)[0]
            extra.append(
                (
                    f"sp-{purpose}-{number:04d}",
                    f"{vendor.split()[0]} {label} ({number})",
                    True,
                    vendor,
                    country,
                    region,
                    rng.random() < 0.9,
                    f"Sub-processor for {label} (synthetic).",
                )
            )
        else:
            stem, label, operator, places = rng.choice(_OWN_KINDS)
            country, region = rng.choice(places)
            extra.append(
                (
                    f"{stem}-{number:04d}",
                    f"{label} {number}",
                    False,
                    operator,
                    country,
                    region,
                    rng.random() < 0.8,
                    f"{label} (synthetic).",
                )
            )
    return SYSTEMS + tuple(extra)


def all_activities(activities: int = len(ACTIVITIES), seed: int = 42) -> tuple[tuple, ...]:
    """ACTIVITIES followed by `activities - 40` synthetic ones (same tuple shape); keys are unique.

    Their systems are drawn apart (`activity_systems_of`), so the volume rows do not depend on how
    many systems there are."""
    _check_counts(len(SYSTEMS), activities)
    rng = _rng(seed, "extra-activities")
    extra = []
    for number in range(len(ACTIVITIES) + 1, activities + 1):
        module, (purpose, label) = rng.choice(_MODULES), rng.choice(_PURPOSES)
        role = "controller" if rng.random() < _CONTROLLER_SHARE else "processor"
        extra.append(
            (
                f"{module}-{purpose}-{number:04d}",
                f"{module.capitalize()} {label} ({number})",
                role,
                rng.choice(_BASES),
                rng.choice(_RETENTIONS),
                tuple(sorted(rng.sample(_CATEGORY_POOL, rng.randint(2, 5)))),
                tuple(rng.sample(_SUBJECT_POOL, rng.randint(1, 6))),
            )
        )
    return ACTIVITIES + tuple(extra)


def activity_systems_of(
    activity_rows: tuple[tuple, ...], system_rows: tuple[tuple, ...], seed: int
) -> dict[str, list[str]]:
    """Systems of the synthetic activities: 1-4 each, drawn from all systems. (The hand-written
    activities draw theirs in `_activities`, from the hand-written systems, as they always did.)"""
    rng = _rng(seed, "extra-activity-systems")
    keys = [s[0] for s in system_rows]
    return {a[0]: sorted(rng.sample(keys, rng.randint(1, 4))) for a in activity_rows[len(ACTIVITIES) :]}


# --- helpers ----------------------------------------------------------------------------------


def _rng(seed: int, part: str) -> random.Random:
    return random.Random(f"breachdesk-bench:{seed}:{part}")


def _ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")


def _dump_items(out, items: Iterator[dict[str, Any]]) -> None:
    """Write a block sequence item by item (at column 0, under a `section:` line already written)."""
    for item in items:
        out.write(yaml.safe_dump([item], sort_keys=False, allow_unicode=True, default_flow_style=None, width=110))


def customer_key(index: int, customers: int) -> str:
    """Key of the customer number `index` (0-based): c00001, c00002, ..."""
    return f"c{index + 1:0{max(5, len(str(customers)))}d}"


def _customers(count: int, seed: int) -> Iterator[dict[str, Any]]:
    rng = _rng(seed, "customers")
    countries, weights = list(COUNTRY_WEIGHTS), list(COUNTRY_WEIGHTS.values())
    for index in range(count):
        country = rng.choices(countries, weights)[0]
        zones, french, forms = COUNTRIES[country]
        stem, sector = rng.choice(NAME_STEMS), rng.choice(SECTORS)
        domain = f"{_ascii_slug(stem)}-{_ascii_slug(sector)}.example.com"
        contract = rng.random() < 0.85
        contacts = []
        for role in rng.sample(CONTACT_ROLES, rng.choice((1, 1, 2, 2, 2, 3))):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            local = role if rng.random() < 0.5 else f"{_ascii_slug(first)}.{_ascii_slug(last)}"
            contacts.append({"role": role, "name": f"{first} {last}", "email": f"{local}@{domain}"})
        yield {
            "key": customer_key(index, count),
            "name": f"{stem} {sector} {rng.choice(forms)}",
            "country": country,
            "language": "fr" if rng.random() < french else "en",
            "time_zone": rng.choice(zones),
            "notice_terms": "contract_hours" if contract else "without_undue_delay",
            "notice_hours": rng.choice((12, 24, 24, 24, 36, 48, 72)) if contract else rng.choice((48, 72)),
            "contacts": contacts,
        }


def _systems(system_rows: tuple[tuple, ...] = SYSTEMS) -> Iterator[dict[str, Any]]:
    for key, name, sub, vendor, country, region, encrypted, description in system_rows:
        yield {
            "key": key,
            "name": name,
            "is_subprocessor": sub,
            "vendor": vendor,
            "hosting_country": country,
            "hosting_region": region,
            "encrypted_at_rest": encrypted,
            "description": description,
        }


def _activities(
    seed: int, activity_rows: tuple[tuple, ...] = ACTIVITIES, system_rows: tuple[tuple, ...] = SYSTEMS
) -> Iterator[dict[str, Any]]:
    rng = _rng(seed, "activities")
    hosting = {s[0]: s[4] for s in system_rows}
    extra_systems = (
        activity_systems_of(activity_rows, system_rows, seed) if len(activity_rows) > len(ACTIVITIES) else {}
    )
    for key, name, role, basis, retention, categories, subjects in activity_rows:
        if key in extra_systems:
            systems = extra_systems[key]
        elif role == "controller":
            systems = [
                {
                    "own-staff": "hr-files",
                    "own-prospection": "crm",
                    "own-suppliers": "accounting",
                    "own-website": "core-db",
                }.get(key, "core-db"),
                "google-workspace",
            ]
        else:
            systems = rng.sample(_OWN_SYSTEMS, rng.randint(1, 3)) + rng.sample(_SUBPROCESSORS, rng.randint(0, 2))
        outside = sorted({hosting[s] for s in systems} - EEA)
        for_whom = "our customers, on their instructions" if role == "processor" else "ourselves"
        activity = {"key": key, "name": name, "role": role, "purpose": f"{name} for {for_whom}.", "legal_basis": basis}
        if retention is not None:
            activity["retention_days"] = retention
        activity["retention_note"] = (
            f"Kept {retention} days."
            if retention is not None
            else "Until 3 months after the customer closes its account."
        )
        activity["transfers"] = [
            {"country": c, "safeguard": SAFEGUARDS.get(c, "Standard contractual clauses")} for c in outside
        ]
        activity["systems"] = sorted(systems)
        activity["data_categories"] = list(categories)
        activity["data_subject_categories"] = list(subjects)
        yield activity


def processor_pairs(activity_rows: tuple[tuple, ...] = ACTIVITIES) -> list[tuple[str, str]]:
    """Every (processor activity, declared subject category): the choices for one customer's rows."""
    return [(a[0], s) for a in activity_rows if a[2] == "processor" for s in a[6]]


def controller_pairs(activity_rows: tuple[tuple, ...] = ACTIVITIES) -> list[tuple[str, str]]:
    return [(a[0], s) for a in activity_rows if a[2] == "controller" for s in a[6]]


def rows_per_customer(
    customers: int, processor_rows: int, seed: int, activity_rows: tuple[tuple, ...] = ACTIVITIES
) -> list[int]:
    """How many processor rows each customer gets: uneven, capped by the pairs, summing exactly."""
    cap = len(processor_pairs(activity_rows))
    if processor_rows > customers * cap:
        raise ValueError(
            f"{processor_rows} processor rows need at least {-(-processor_rows // cap)} customers "
            f"({cap} processor (activity, subject) pairs each); got {customers}"
        )
    rng = _rng(seed, "spread")
    weights = [rng.uniform(0.5, 1.5) for _ in range(customers)]
    scale = processor_rows / sum(weights) if customers else 0
    sizes = [min(cap, int(w * scale)) for w in weights]
    missing = processor_rows - sum(sizes)
    order = list(range(customers))
    while missing:  # hand the rounding (and capping) remainder out one row at a time, in a seeded order
        rng.shuffle(order)
        for index in order:
            if missing and sizes[index] < cap:
                sizes[index] += 1
                missing -= 1
    return sizes


def _counts(rng: random.Random, scale: float) -> tuple[int, int]:
    subjects = max(1, int(rng.lognormvariate(5.5, 1.4) * scale))
    return subjects, subjects * rng.randint(1, 40)


# --- the files --------------------------------------------------------------------------------


def write_structure(
    path: Path, customers: int, seed: int, systems: int = len(SYSTEMS), activities: int = len(ACTIVITIES)
) -> None:
    system_rows, activity_rows = all_systems(systems, seed), all_activities(activities, seed)
    sizes = (
        ""
        if (systems, activities) == (len(SYSTEMS), len(ACTIVITIES))
        else f", {systems} systems, {activities} activities"
    )
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write(
            f"# Synthetic BreachDesk inventory: {customers} customers{sizes}, seed {seed}.\n"
            f"# Generated by tests/bench/generate_inventory.py; do not edit.\n"
        )
        out.write(f"format: {FORMAT}\n")
        out.write(f"volumes: {VOLUMES_NAME}\n")
        out.write("customers:\n")
        _dump_items(out, _customers(customers, seed))
        out.write("systems:\n")
        _dump_items(out, _systems(system_rows))
        out.write("activities:\n")
        _dump_items(out, _activities(seed, activity_rows, system_rows))


def write_volumes(path: Path, customers: int, volume_rows: int, seed: int, activities: int = len(ACTIVITIES)) -> int:
    """Stream the CSV; returns the number of data rows written (always `volume_rows`)."""
    activity_rows = all_activities(activities, seed)
    own = controller_pairs(activity_rows)
    if volume_rows < len(own):
        raise ValueError(f"volume_rows must be at least {len(own)} (one per controller (activity, subject) pair)")
    pairs = processor_pairs(activity_rows)
    sizes = rows_per_customer(customers, volume_rows - len(own), seed, activity_rows)
    rng = _rng(seed, "volumes")
    written = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(VOLUME_COLUMNS)
        for activity, subject in own:
            writer.writerow(("", activity, subject, *_counts(rng, 50.0)))
            written += 1
        for index, size in enumerate(sizes):
            key = customer_key(index, customers)
            for pair in sorted(rng.sample(range(len(pairs)), size)):
                activity, subject = pairs[pair]
                writer.writerow((key, activity, subject, *_counts(rng, 1.0)))
            written += size
    assert written == volume_rows, (written, volume_rows)
    return written


def generate(
    directory: str | Path,
    customers: int = 10_000,
    volume_rows: int = 1_000_000,
    seed: int = 42,
    systems: int = len(SYSTEMS),
    activities: int = len(ACTIVITIES),
) -> tuple[Path, Path]:
    """Write inventory.yaml and volumes.csv into `directory` (created if needed); returns their paths."""
    if customers < 1:
        raise ValueError("customers must be at least 1")
    _check_counts(systems, activities)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    structure, volumes = directory / STRUCTURE_NAME, directory / VOLUMES_NAME
    write_structure(structure, customers, seed, systems, activities)
    write_volumes(volumes, customers, volume_rows, seed, activities)
    return structure, volumes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--volume-rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--systems",
        type=int,
        default=len(SYSTEMS),
        help=f"systems in all (default {len(SYSTEMS)}: the hand-written ones only)",
    )
    parser.add_argument(
        "--activities",
        type=int,
        default=len(ACTIVITIES),
        help=f"processing activities in all (default {len(ACTIVITIES)}: the hand-written ones only)",
    )
    args = parser.parse_args(argv)
    try:
        structure, volumes = generate(
            args.outdir, args.customers, args.volume_rows, args.seed, args.systems, args.activities
        )
    except ValueError as error:
        parser.error(str(error))
    print(
        f"wrote {structure} ({structure.stat().st_size / 1e6:.1f} MB) and {volumes} "
        f"({volumes.stat().st_size / 1e6:.1f} MB, {args.volume_rows} rows)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
