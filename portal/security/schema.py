"""The OpenAPI schema documents every answer an operation can give, 4xx included.

Each operation gets 401/403 (not signed in, or not allowed), 429 (rate limit), 400 when it takes a
body or query parameters, 404 when its path names an object or it lists pages, and 409/422 (with the
Idempotency-Key header) when it is a POST done once per key (portal.idempotency); an operation
that already documents one of these keeps its own. A blank-allowed e-mail field is declared as an
e-mail address or "" (what responses carry for a firm without one).
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

ERROR_DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
# 400: one list of messages per field, "non_field_errors" for the rest, or a single "detail".
VALIDATION_ERRORS = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": {
        "oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}, {"type": "string"}],
    },
}


def may_be_blank(field: serializers.EmailField) -> bool:
    """Whether the field can carry "": it allows blank input, or it shows a model field that does."""
    if field.allow_blank:
        return True
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or not field.source or "." in field.source:
        return False
    try:
        return model._meta.get_field(field.source).blank
    except Exception:  # not a model field (a property, a method)
        return False


class PortalAutoSchema(AutoSchema):
    def component(self, name: str, schema: dict) -> dict:
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema)
        self.registry.register_on_missing(component)
        return component.ref

    def error(self, description: str, name: str = "ErrorDetail", schema: dict = ERROR_DETAIL) -> dict:
        return {"content": {"application/json": {"schema": self.component(name, schema)}},
                "description": description}

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        method = self.method.upper()
        takes_input = method in ("POST", "PUT", "PATCH") or bool(self._get_filter_parameters()) \
            or bool(self._get_pagination_parameters())
        extra = {
            "401": self.error("Not signed in, or the credentials or token are not valid."),
            "403": self.error("The account may not use this operation, or must first complete two-factor sign-in."),
            "429": self.error("Too many requests, or sign-in locked after failed attempts: wait and retry."),
        }
        if takes_input or any(p.get("in") == "query" for p in self._get_parameters()):
            extra["400"] = self.error("The request is not valid: messages per field.", "ValidationErrors",
                                      VALIDATION_ERRORS)
        if method == "POST" and self.is_idempotent():
            extra["409"] = self.error("A request with this Idempotency-Key is still being handled.")
            extra["422"] = self.error("This Idempotency-Key was already used for a different request.")
        if "{" in self.path or self._is_list_view():
            extra["404"] = self.error("No such object, or it lies outside the caller's jurisdiction; or no such page.")
        for code, response in extra.items():
            responses.setdefault(code, response)
        return dict(sorted(responses.items()))

    def is_idempotent(self) -> bool:
        from portal.idempotency import IdempotentAPIMixin

        return isinstance(self.view, IdempotentAPIMixin)

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self.method.upper() == "POST" and self.is_idempotent():
            parameters = [*parameters, OpenApiParameter(
                "Idempotency-Key", type=str, location=OpenApiParameter.HEADER, required=False,
                description="8 to 128 letters, digits or . _ : -; a repeat with the same key and body gets the "
                            "first answer and changes nothing.")]
        return parameters

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.EmailField) and may_be_blank(field) and schema.get("format") == "email":
            schema = {key: value for key, value in schema.items() if key != "format"}
            schema["anyOf"] = [{"format": "email"}, {"maxLength": 0}]
        return schema


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "portal.security.tokens.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "An API token from /accounts/security/tokens/, sent as: Token <token>"}


class BasicAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "portal.security.tokens.BasicAuthentication"
    name = "basicAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "basic",
                "description": "Development only: switched off in production (PORTAL_API_BASIC_AUTH)."}


def blank_email_hook(result, generator, request, public):
    """drf-spectacular puts `format: email` back on read-only model fields after the mapping above;
    a field that may be "" keeps the format only inside its anyOf."""
    for component in result.get("components", {}).get("schemas", {}).values():
        for prop in component.get("properties", {}).values():
            if prop.get("format") == "email" and {"format": "email"} in prop.get("anyOf", []):
                del prop["format"]
    return result
