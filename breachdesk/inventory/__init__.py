"""The processing inventory (GDPR Art. 30 records): customers, systems, activities, volumes."""
