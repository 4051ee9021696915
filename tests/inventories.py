"""A small inventory whose right answers can be worked out by hand, loaded through the real importer, and seeded
random ones. Shared by the impact, incident, deadline, notice and API tests."""

import io
import random
import textwrap
from typing import Any

from breachdesk.extensions import db
from breachdesk.inventory.importer import import_inventory
from breachdesk.inventory.taxonomy import data_categories

SMALL = textwrap.dedent("""\
    format: breachdesk-inventory/1
    customers:
      - {key: acme, name: Acme, country: FR}
      - {key: globex, name: Globex, country: DE}
      - {key: initech, name: Initech, country: US}
      - {key: umbrella, name: Umbrella, country: GB}
    systems:
      - {key: db, name: Main database, hosting_country: IE}
      - {key: sms, name: SMS relay, hosting_country: US, is_subprocessor: true, vendor: Twilio}
      - {key: crm, name: CRM, hosting_country: FR}
      - {key: billing, name: Billing, hosting_country: FR}
    activities:
      - {key: messages, name: Messages, role: processor, retention_days: 6, systems: [db],
         data_categories: [user.content.private, user.contact.email], data_subject_categories: [customer],
         customers: [initech]}
      - {key: directory, name: Directory, role: processor, systems: [db, sms],
         data_categories: [user.contact.email, user.name], data_subject_categories: [customer, prospect]}
      - {key: prospects, name: Prospection, role: controller, systems: [crm],
         data_categories: [user.contact.email], data_subject_categories: [prospect]}
      - {key: invoicing, name: Invoicing, role: processor, systems: [billing],
         data_categories: [user.financial.bank_account], data_subject_categories: [customer]}
    """)
VOLUMES = (
    "customer,activity,data_subject_category,data_subjects,records\n"
    "acme,messages,customer,100,1000\n"
    "acme,directory,customer,80,80\n"
    "acme,directory,prospect,20,20\n"
    "globex,directory,customer,50,50\n"
    "umbrella,invoicing,customer,7,70\n"
    ",prospects,prospect,300,310\n"
)


def load(volumes: str = VOLUMES) -> None:
    data = volumes.encode()
    import_inventory(("small.yaml", SMALL), ("volumes.csv", io.BytesIO(data), len(data)))
    db.session.commit()


#: an organisation profile (GDPR and NIS2) and the notice terms of two customers of the small inventory
PROFILE = textwrap.dedent("""\
    format: breachdesk-inventory/1
    organisation:
      name: Parlons SAS
      country: FR
      lead_supervisory_authority: CNIL
      regimes: [GDPR, NIS2]
      authorities: {NIS2: CERT-FR}
      entity_status: {NIS2: important}
      undue_delay_target_hours: 48
    customers:
      - {key: globex, name: Globex, country: DE, notice_hours: 48}
      - {key: initech, name: Initech, country: US, notice_terms: without_undue_delay, notice_hours: 36}
    """)


def import_text(text: str, name: str = "profile.yaml") -> None:
    import_inventory((name, text))
    db.session.commit()


def random_inventory(seed: int) -> dict[str, Any]:
    """A seeded inventory of processor activities over a few systems, customers linked to some of them
    (with or without volume rows), names that sort differently by code point and by locale."""
    rng = random.Random(seed)
    categories = sorted(data_categories())
    subjects = ["customer", "employee", "prospect", "patient"]
    names = ["Acme", "acme", "Émile", "Zeta", "zeta", "Ärger", "beta", "Beta", "b_c", "b.c"]
    systems = [f"s{n}" for n in range(6)]
    customers = {f"c{n:02d}": rng.choice(names) for n in range(30)}
    activities = {}
    for n in range(12):
        key = f"a{rng.randrange(100):02d}-{n}"
        activities[key] = {
            "systems": sorted(rng.sample(systems, rng.randint(1, 3))),
            "data_categories": sorted(rng.sample(categories, rng.randint(1, 6))),
            "subjects": sorted(rng.sample(subjects, rng.randint(1, 3))),
            "linked": sorted(rng.sample(sorted(customers), rng.randint(0, 12))),
        }
    volumes = [
        (customer, key, subject, rng.randint(0, 500), rng.randint(0, 5000))
        for key, activity in activities.items()
        for customer in activity["linked"]
        for subject in activity["subjects"]
        if rng.random() < 0.6
    ]
    return {
        "customers": customers,
        "activities": activities,
        "volumes": volumes,
        "scope": sorted(rng.sample(systems, rng.randint(2, 4))),
    }


def import_random_inventory(inventory: dict[str, Any]) -> None:
    lines = ["format: breachdesk-inventory/1", "customers:"]
    lines += [f"  - {{key: {k}, name: '{n}', country: FR}}" for k, n in inventory["customers"].items()]
    lines += ["systems:"] + [f"  - {{key: s{n}, name: System {n}, hosting_country: IE}}" for n in range(6)]
    lines += ["activities:"]
    for key, a in inventory["activities"].items():
        lines.append(
            f"  - {{key: {key}, name: {key}, role: processor, systems: [{', '.join(a['systems'])}], "
            f"data_categories: [{', '.join(a['data_categories'])}], "
            f"data_subject_categories: [{', '.join(a['subjects'])}], customers: [{', '.join(a['linked'])}]}}"
        )
    csv = "customer,activity,data_subject_category,data_subjects,records\n"
    csv += "".join(f"{c},{a},{s},{people},{records}\n" for c, a, s, people, records in inventory["volumes"])
    data = csv.encode()
    import_inventory(("random.yaml", "\n".join(lines) + "\n"), ("volumes.csv", io.BytesIO(data), len(data)))
    db.session.commit()
