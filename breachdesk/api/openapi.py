"""The OpenAPI 3 document, built from the routes of the API blueprint and the metadata on each view."""

import re
from collections.abc import Callable
from typing import Any

from flask import Flask

from breachdesk.api.schemas import ERROR, ROW_ID

_ERRORS = {
    "400": "Malformed request",
    "401": "Missing, unknown or revoked token",
    "403": "The token's role may not",
    "413": "Body too large",
    "422": "Invalid input; nothing was changed",
}


def operation(
    summary: str,
    *,
    request: dict | None = None,
    request_types: tuple[str, ...] = ("application/json",),
    response: dict | None = None,
    status: str = "200",
    parameters: list[dict] | None = None,
    errors: tuple[str, ...] = ("401", "403"),
) -> Callable:
    """Describe a view for the OpenAPI document; the description lives next to the code it describes."""

    def decorate(view: Callable) -> Callable:
        responses: dict[str, Any] = {status: {"description": summary}}
        if response is not None:
            responses[status]["content"] = {"application/json": {"schema": response}}
        for code in errors:
            responses[code] = {
                "description": _ERRORS.get(code, "Error"),
                "content": {"application/json": {"schema": ERROR}},
            }
        spec: dict[str, Any] = {
            "summary": summary,
            "operationId": view.__name__,
            "responses": responses,
            "parameters": parameters or [],
        }
        if request is not None:
            spec["requestBody"] = {"required": True, "content": {t: {"schema": request} for t in request_types}}
        view.openapi = spec
        return view

    return decorate


def build(app: Flask) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith("api."):
            continue
        view = app.view_functions[rule.endpoint]
        spec = getattr(view, "openapi", None)
        if spec is None:
            continue
        path = re.sub(r"<(?:(\w+):)?(\w+)>", r"{\2}", rule.rule)
        path_parameters = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": ROW_ID if converter == "int" else {"type": "string"},  # our int parameters are row ids
            }
            for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule.rule)
        ]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            operation_spec = {**spec, "parameters": path_parameters + spec["parameters"]}
            if not operation_spec["parameters"]:
                del operation_spec["parameters"]
            paths.setdefault(path, {})[method.lower()] = operation_spec
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "BreachDesk API",
            "version": "1",
            "description": "Incidents and their impact for alerting tools and scripts. Times are RFC 3339 "
            "with an offset and are returned in UTC.",
        },
        "paths": paths,
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
    }
