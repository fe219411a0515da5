"""Platform administration: every organisation, its plan, creating new ones."""
