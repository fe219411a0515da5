"""Organisations: settings, branding, members, invitations, and the current-org switcher."""
