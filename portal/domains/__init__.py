"""Sending domains: DNS records, verification, DKIM keys and the org's sending identity."""
