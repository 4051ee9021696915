"""Deadlines: the rules table (obligations as data) and the calendar arithmetic that turns them into due times."""
