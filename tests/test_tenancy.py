"""Tenancy sweep: every URL that takes an object id, asked by org A for org B's objects.

It walks app.url_map, so a route added later is swept without editing this test. A route
argument must be named after its model (`<model>_id`, or the model's `url_param`) so the
sweep can find org B's object for it; an unmappable argument fails the test on purpose.
"""
import re

import pytest
from flask import current_app, url_for

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.orgs.models import Organization
from tests.domains.factories import make_sending_domain
from tests.providers.factories import make_provider_account
from tests.factories import (
    PASSWORD,
    make_api_key,
    make_invitation,
    make_job,
    make_org,
    make_smtp_config,
    make_user,
)

# Arguments that are not object ids, with every value the sweep should try.
FREE_ARGS = {"token": ["not-a-real-token-0123456789"], "area": ["settings", "account"]}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _models_by_param():
    params = {}
    for mapper in db.Model.registry.mappers:
        cls = mapper.class_
        params[getattr(cls, "url_param", f"{_snake(cls.__name__)}_id")] = cls
    return params


def _object_of(org, model):
    if model is Organization:
        return org
    if not hasattr(model, "org_id"):
        pytest.fail(f"{model.__name__} has no org_id: decide how the sweep finds org B's one")
    obj = db.session.scalar(db.select(model).where(model.org_id == org.id).limit(1))
    if obj is None:
        pytest.fail(f"seed org B with a {model.__name__} in tests/test_tenancy.py::_seed")
    return obj


def _argument_sets(rule, params, org_b):
    """Every combination of values to try for a rule's arguments."""
    combos = [{}]
    for arg in sorted(rule.arguments):
        if arg in params:
            obj = _object_of(org_b, params[arg])
            choices = [getattr(obj, "url_value", obj.id)]
        elif arg in FREE_ARGS:
            choices = FREE_ARGS[arg]
        else:
            pytest.fail(f"{rule.rule}: argument <{arg}> maps to no model; name it "
                        "<model>_id or give the model a url_param")
        combos = [{**combo, arg: choice} for combo in combos for choice in choices]
    return combos


def _seed(org_b):
    make_user("b-admin@example.com", org=org_b, role="admin")
    make_invitation(org_b, "b-invitee@example.com")
    make_api_key(org_b)
    make_job(org_b)
    make_smtp_config(org=org_b)
    make_provider_account(org_b, "sendgrid", enabled=True)
    make_sending_domain(org_b, verified=True)
    _, b_key = make_api_key(org_b, scopes=["send"])
    with current_app.test_client() as b_client:
        response = b_client.post("/api/v1/messages", headers={"Authorization": f"Bearer {b_key}"},
                                 json={"email_type": "workflow", "to": ["x@example.com"],
                                       "subject": "Hello", "text": "Hi"})
        assert response.status_code == 202


def _snapshot(org_b):
    return {table.name: db.session.execute(db.select(table).where(table.c.org_id == org_b.id)
                                           .order_by(*table.primary_key.columns)).all()
            for table in db.metadata.sorted_tables if "org_id" in table.c}


def test_org_a_cannot_reach_any_object_of_org_b(app, client):
    org_a, org_b = make_org("Alpha", "alpha"), make_org("Beta", "beta")
    make_user("a-admin@example.com", org=org_a, role="admin")
    _, a_secret = make_api_key(org_a)
    _seed(org_b)
    client.login("a-admin@example.com", PASSWORD)
    params = _models_by_param()
    before = _snapshot(org_b)

    swept = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or not set(rule.arguments) & set(params):
            continue  # no object id in this URL: nothing of org B's to reach
        for values in _argument_sets(rule, params, org_b):
            with app.test_request_context():
                path = url_for(rule.endpoint, **values)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                headers = {"Authorization": f"Bearer {a_secret}"} \
                    if path.startswith("/api/") else {}
                response = client.open(path, method=method, headers=headers, data={})
                assert response.status_code in (403, 404), (
                    f"{method} {path} as org A with org B's ids answered "
                    f"{response.status_code}")
                swept.append((method, path))

    db.session.expire_all()
    assert _snapshot(org_b) == before, "a request from org A changed org B's rows"
    assert len(swept) >= 8, swept  # the sweep really ran over the id-bearing routes


def test_audit_log_of_org_a_holds_nothing_of_org_b(client):
    org_a, org_b = make_org("Alpha"), make_org("Beta")
    make_user("a-admin@example.com", org=org_a, role="admin")
    _seed(org_b)
    client.login("a-admin@example.com", PASSWORD)
    page = client.get("/settings/audit").data
    assert b"b-admin@example.com" not in page and b"b-invitee" not in page
    assert db.session.scalar(db.select(db.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.org_id == org_b.id)) > 0
