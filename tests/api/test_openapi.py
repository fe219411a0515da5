"""The OpenAPI document: public, valid OpenAPI 3.1, complete, and true to real responses."""
import re

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from tests.factories import make_api_key, make_org, make_smtp_config
from tests.sending.conftest import message_body

PREFIX = "/api/v1"
IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture
def document(client):
    response = client.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def bearer(secret):
    return {"Authorization": f"Bearer {secret}"}


def schema_validator(document, name):
    """A JSON Schema 2020-12 validator for one component schema, its $refs resolved."""
    registry = Registry().with_resource("urn:postroom-openapi",
                                        DRAFT202012.create_resource(document))
    return Draft202012Validator({"$ref": f"urn:postroom-openapi#/components/schemas/{name}"},
                                registry=registry)


def assert_matches(document, name, body):
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in schema_validator(document, name).iter_errors(body)]
    assert not errors, errors


def response_schema_name(document, path, method, status):
    response = document["paths"][path][method]["responses"][str(status)]
    if "$ref" in response:
        response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    return response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]


def test_the_document_needs_no_key_and_is_valid_openapi_3_1(client, document):
    validate(document, cls=OpenAPIV31SpecValidator)
    assert document["openapi"].startswith("3.1")
    assert document["info"]["title"] == "Postroom API"
    assert document["servers"] == [{"url": PREFIX}]
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    # Everything else under /api/v1 still refuses a request without a key.
    assert client.get(f"{PREFIX}/org").status_code == 401


def documented_form(rule: str) -> str:
    """/api/v1/smtp-configurations/<int:smtp_configuration_id> → /smtp-configurations/{…}"""
    return re.sub(r"<(?:[^<>]*:)?([^<>:]+)>", r"{\1}", rule.removeprefix(PREFIX))


def test_every_api_route_is_documented_and_nothing_else(app, document):
    routes = {(documented_form(rule.rule), method.lower())
              for rule in app.url_map.iter_rules() if rule.rule.startswith(PREFIX + "/")
              for method in rule.methods - IGNORED_METHODS}
    documented = {(path, method) for path, item in document["paths"].items()
                  for method in item if method in {"get", "post", "put", "patch", "delete"}}
    assert ("/messages/{message_id}", "get") in routes  # the conversion works
    assert routes - documented == set(), "routes missing from the OpenAPI document"
    assert documented - routes == set(), "documented operations that do not exist"


def test_every_authenticated_operation_names_its_scopes_and_errors(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if operation.get("security") == []:
                continue
            assert "x-required-scopes" in operation, (method, path)
            assert {"401", "422"} <= set(operation["responses"]), (method, path)
            if operation["x-required-scopes"]:
                assert "403" in operation["responses"], (method, path)
            for name in re.findall(r"{(\w+)}", path):
                assert any(p["in"] == "path" and p["name"] == name
                           for p in operation["parameters"]), (method, path, name)


def test_accepted_message_matches_its_schema(client, document):
    _, secret = make_api_key(make_org(), scopes=["send", "read"])
    response = client.post(f"{PREFIX}/messages", json=message_body(),
                           headers={**bearer(secret), "Idempotency-Key": "k-1"})
    assert response.status_code == 202
    name = response_schema_name(document, "/messages", "post", 202)
    assert name == "MessageAccepted"
    assert_matches(document, name, response.get_json())
    assert_matches(document, "SendMessage", message_body())

    message_id = response.get_json()["id"]
    one = client.get(f"{PREFIX}/messages/{message_id}", headers=bearer(secret))
    assert_matches(document, response_schema_name(document, "/messages/{message_id}", "get",
                                                  200), one.get_json())
    page = client.get(f"{PREFIX}/messages?limit=1", headers=bearer(secret))
    assert_matches(document, "MessageList", page.get_json())


def test_errors_match_the_error_schema(client, document):
    _, secret = make_api_key(make_org(), scopes=["send"])
    invalid = client.post(f"{PREFIX}/messages", json=message_body(to=["not-an-address"]),
                          headers=bearer(secret))
    assert invalid.status_code == 422 and invalid.get_json()["error"]["field"] == "to"
    assert response_schema_name(document, "/messages", "post", 422) == "Error"
    assert_matches(document, "Error", invalid.get_json())

    conflict_headers = {**bearer(secret), "Idempotency-Key": "same"}
    client.post(f"{PREFIX}/messages", json=message_body(), headers=conflict_headers)
    conflict = client.post(f"{PREFIX}/messages", json=message_body(subject="Other"),
                           headers=conflict_headers)
    assert conflict.status_code == 409
    assert_matches(document, "Error", conflict.get_json())

    for response in (client.get(f"{PREFIX}/org"),  # 401
                     client.get(f"{PREFIX}/org", headers=bearer(secret))):  # 403
        assert response.status_code in (401, 403)
        assert_matches(document, "Error", response.get_json())


def test_batch_org_and_smtp_responses_match_their_schemas(client, document):
    org = make_org()
    make_smtp_config(org=org)
    _, secret = make_api_key(org)
    batch = client.post(f"{PREFIX}/messages/batch", headers=bearer(secret), json={
        "messages": [message_body(), message_body(to=["nobody"])]})
    assert batch.status_code == 202
    assert_matches(document, "BatchResult", batch.get_json())
    assert_matches(document, "Org", client.get(f"{PREFIX}/org", headers=bearer(secret))
                   .get_json())
    configs = client.get(f"{PREFIX}/smtp-configurations", headers=bearer(secret))
    assert_matches(document, "SmtpConfigurationList", configs.get_json())


def test_the_schemas_refuse_what_the_api_refuses(document):
    with pytest.raises(AssertionError):
        assert_matches(document, "SendMessage", message_body(surprise=True))
    with pytest.raises(AssertionError):
        assert_matches(document, "SendMessage", message_body(text=None, html=None))
    with pytest.raises(AssertionError):
        assert_matches(document, "Error", {"error": {"message": "no code"}})
