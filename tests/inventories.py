"""A small inventory whose right answers can be worked out by hand, loaded through the real importer.
Shared by the impact, incident, deadline, notice and API tests."""

import io
import textwrap

from breachdesk.extensions import db
from breachdesk.inventory.importer import import_inventory

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
