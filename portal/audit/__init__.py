"""The audit trail: who changed what, when, from where. Every mutation writes one event."""
