"""Operational surface: health and readiness probes, and the worker round-trip check."""
