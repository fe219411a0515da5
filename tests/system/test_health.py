"""Health probes: /healthz is the process, /readyz names whichever dependency is failing."""
from tests.conftest import free_port


def test_healthz_answers_without_touching_dependencies(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_is_200_when_database_redis_and_migrations_are_fine(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok", "migrations": "ok", "redis": "ok"}


def test_readyz_names_redis_when_it_is_down(database_url, make_app):
    app = make_app(database_url, redis=f"redis://127.0.0.1:{free_port()}/0")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["failing"] == ["redis"] and body["checks"]["database"] == "ok"


def test_readyz_names_migrations_when_the_database_is_behind(new_database_url, make_app):
    app = make_app(new_database_url())
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert "migrations" in response.get_json()["failing"]
