"""Cross-cutting web pieces: access decisions, tenancy, htmx rendering, error pages."""
