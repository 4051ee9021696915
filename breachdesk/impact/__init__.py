"""Impact: which customers, people, records and data categories an incident reaches, and why."""
