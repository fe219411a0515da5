"""Page-or-fragment rendering: one template serves the full page and its htmx fragments."""
from __future__ import annotations

from flask import make_response, redirect, render_template, request
from jinja2_fragments.flask import render_block


def wants_fragment() -> bool:
    # A boosted request navigates like a normal link and needs the whole page.
    return bool(request.htmx) and not request.htmx.boosted


def render(template: str, block: str | None = None, status: int = 200, **context):
    """Render `template`, or only its `block` when htmx asked for a fragment."""
    if block and wants_fragment():
        return render_block(template, block, **context), status
    return render_template(template, **context), status


def apply_service_error(form, exc) -> None:
    """Show a service's user-facing error under the field it names, or above the form."""
    field = getattr(exc, "field", None)
    if field and field in form:
        form[field].errors = list(form[field].errors) + [str(exc)]
    else:
        form.form_errors.append(str(exc))


def see_other(url: str):
    """After a successful change: 303 for a plain form, a client-side redirect for htmx.

    htmx would follow a 303 inside the XHR and swap a whole page into the fragment's place.
    """
    if wants_fragment():
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=303)
