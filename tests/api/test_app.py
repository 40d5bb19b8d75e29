"""The application around the routes: health, the OpenAPI document, problem responses."""

from __future__ import annotations

from meritline.db.migrate import head_revision
from tests.api.conftest import Live


def test_health_reports_ok_at_the_schema_head(live: Live) -> None:
    response = live.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["schema"] == head_revision()


def test_openapi_lists_the_employee_routes(live: Live) -> None:
    response = live.get("/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "get" in paths["/api/v1/employees"]
    assert "get" in paths["/api/v1/employees/{employee_id}"]
    assert "get" in paths["/api/v1/employees/{employee_id}/sensitive-attributes"]


def test_unknown_route_is_a_problem(live: Live) -> None:
    response = live.get("/api/v1/nothing-here", "admin")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["instance"] == "/api/v1/nothing-here"
