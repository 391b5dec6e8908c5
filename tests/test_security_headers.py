"""Content-Security-Policy and Permissions-Policy on every page; the OpenAPI schema matches the
responses, 4xx included."""

import re
from pathlib import Path

import pytest
import yaml
from django.urls import reverse
from jsonschema import Draft4Validator, FormatChecker

from tests.factories import CampaignFactory

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part for part in (p.strip() for p in header.split(";")) if part}


def test_pages_carry_a_content_security_policy_without_unsafe_inline(client_for, bob):
    response = client_for(bob).get(reverse("home"))
    directives = policy(response)
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert directives["default-src"] == "default-src 'self'"
    assert directives["object-src"] == "object-src 'none'"
    assert directives["frame-ancestors"] == "frame-ancestors 'none'"


def test_the_sign_in_page_carries_it_too(db, client):
    assert "default-src 'self'" in client.get(reverse("login"))["Content-Security-Policy"]


def test_an_inline_script_runs_by_the_responses_nonce(client_for, bob, alice):
    from campaigns.cases import services

    case = services.case_open(user=bob, campaign=CampaignFactory(), enterprise=alice.enterprises.get(), title="帮扶")
    response = client_for(bob).get(reverse("cases:visit-new", args=[case.pk]))
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", response.content.decode())
    assert scripts and all(f'nonce="{nonce}"' in attributes for attributes in scripts)
    other = client_for(bob).get(reverse("cases:visit-new", args=[case.pk]))
    assert nonce not in other["Content-Security-Policy"]  # a new nonce for every response


def test_no_template_has_an_inline_handler_style_attribute_or_unnonced_script():
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        assert not re.search(r"\son[a-z]+=\"", text), path
        assert 'style="' not in text, path
        for attributes in re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", text):
            assert "nonce=" in attributes, path


def test_permissions_policy_switches_off_device_features(client_for, bob):
    header = client_for(bob).get(reverse("home"))["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in header


def test_the_api_docs_page_works_under_the_policy(client_for, bob):
    response = client_for(bob).get(reverse("api:docs"))
    assert response.status_code == 200
    assert "Content-Security-Policy" in response
    html = response.content.decode()
    assert not re.findall(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", html)  # no inline script body
    script = client_for(bob).get(reverse("api:docs") + "?script=")
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.content


# --- The schema against the responses -------------------------------------------------------------

@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from drf_spectacular.generators import SchemaGenerator

    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def to_json_schema(node, components):
    """OpenAPI 3.0 schema objects as JSON Schema: $refs inlined, `nullable` as a null alternative."""
    if isinstance(node, list):
        return [to_json_schema(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return to_json_schema(components[node["$ref"].rsplit("/", 1)[-1]], components)
    converted = {key: to_json_schema(value, components) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def assert_matches(schema, path: str, method: str, response) -> None:
    operation = schema["paths"][path][method]
    documented = operation["responses"]
    code = str(response.status_code)
    assert code in documented, f"{method.upper()} {path} answered {code}, documented: {sorted(documented)}"
    content = documented[code].get("content", {}).get("application/json")
    if content is None:
        return
    json_schema = to_json_schema(content["schema"], schema["components"]["schemas"])
    errors = list(Draft4Validator(json_schema, format_checker=FormatChecker()).iter_errors(response.json()))
    assert errors == [], [(list(e.absolute_path), e.message) for e in errors]


def test_me_with_no_region_matches_the_schema(schema, api_for, alice):
    assert_matches(schema, "/api/me/", "get", api_for(alice).get(reverse("api:me")))


def test_an_enterprise_without_an_email_matches_the_schema(schema, api_for, bob, alice):
    firm = alice.enterprises.get()
    firm.contact_email = ""
    firm.save()
    response = api_for(bob).get(reverse("api:enterprise-detail", args=[firm.pk]))
    assert response.json()["contact_email"] == ""
    assert_matches(schema, "/api/enterprises/{id}/", "get", response)


def test_error_answers_match_the_schema(schema, api_for, bob, charlie, diana, alice):
    firm = alice.enterprises.get()
    detail = "/api/enterprises/{id}/"
    url = reverse("api:enterprise-detail", args=[firm.pk])
    assert_matches(schema, detail, "get", api_for(charlie).get(url))  # 404: another city
    assert_matches(schema, detail, "patch", api_for(diana).patch(url, {"name": "x"}, format="json"))  # 403
    assert_matches(schema, detail, "patch", api_for(bob).patch(url, {"contact_email": "nope"}, format="json"))  # 400
    assert_matches(schema, detail, "get", api_for(None).get(url))  # 403 anonymous
    assert_matches(schema, "/api/cases/", "post",
                   api_for(bob).post(reverse("api:case-list"), b"[" * 50 + b"]" * 50, content_type="application/json"))


def test_every_operation_documents_its_error_answers(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "403", "429"} <= codes, (method, path)
            if method in ("post", "put", "patch"):
                assert "400" in codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            if method == "post" and any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", [])):
                assert {"409", "422"} <= codes, (method, path)


def test_posts_done_once_per_key_document_the_header(schema):
    headers = [p["name"] for p in schema["paths"]["/api/needs/"]["post"].get("parameters", [])]
    assert "Idempotency-Key" in headers


def test_the_schema_yaml_is_served(client_for, bob):
    response = client_for(bob).get(reverse("api:schema"))
    assert "/api/tokens/" in yaml.safe_load(response.content)["paths"]
