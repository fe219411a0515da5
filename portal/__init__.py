"""Postroom: the outbound-email control plane.

Kept free of imports so that `portal.client`, the standard-library API client, can be used by
apps that do not have Flask installed; the app itself is built in portal/app.py.
"""


def create_app(config=None):
    """Build the Flask app (see portal.app.create_app)."""
    from portal.app import create_app as build

    return build(config)
