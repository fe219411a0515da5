"""Error pages for people, and the one JSON error shape for /api/v1."""
from __future__ import annotations

import logging

from flask import jsonify, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal.extensions import db
from portal.web.render import render

log = logging.getLogger(__name__)

CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "invalid",
         429: "rate_limited", 500: "internal_error", 503: "unavailable"}


def api_error(status: int, message: str, field: str | None = None, code: str | None = None):
    body = {"code": code or CODES.get(status, "error"), "message": message}
    if field:
        body["field"] = field
    return jsonify({"error": body}), status


def _is_api() -> bool:
    return request.path.startswith("/api/")


def register_error_handlers(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(exc):
        message = ("This form expired or was sent from another site. "
                   "Reload the page and try again.")
        if _is_api():
            return api_error(400, message, code="csrf_failed")
        return render("errors/error.html", status=400, code=400, message=message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if _is_api():
            return api_error(exc.code or 500, exc.description or exc.name)
        messages = {403: "You do not have permission to do that here.",
                    404: "There is nothing at this address, or it belongs to another "
                         "organisation."}
        return render("errors/error.html", status=exc.code or 500, code=exc.code,
                      message=messages.get(exc.code, exc.description))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        if _is_api():
            return api_error(500, "Something went wrong on our side; it has been logged.")
        return render("errors/error.html", status=500, code=500,
                      message="Something went wrong on our side; it has been logged.")
