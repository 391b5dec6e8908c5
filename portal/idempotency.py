"""Requests that are safe to repeat: a client's Idempotency-Key, a page form's one-time token.

The first request with a key inserts the key's row and does its work in one transaction; its
answer is stored on the row when it succeeds. A repeat inserts the same (user, key) and, on
PostgreSQL, waits on the unique index until the first commits or rolls back: then it gets the
first answer back (with `Idempotent-Replayed: true`) and creates nothing; if the first failed,
the repeat runs as if it were the first. A key sent again with a different method, path or body
is refused (422): it names another request.
"""

import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import IdempotencyKey

HEADER = "Idempotency-Key"
# Set on an answer given again from a key's stored one.
REPLAYED_HEADER = "Idempotent-Replayed"
FORM_FIELD = "once"
KEY_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
# How long a key is remembered: a retry comes within minutes, a day is plenty.
KEEP = timedelta(days=1)


class KeyProblem(Exception):
    """The key cannot be used: malformed, or already used for a different request."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.message = message
        self.status = status


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\0".join([method.encode(), path.encode(), body])).hexdigest()


def once(*, user, key: str, request_fingerprint: str, run: Callable[[], object],
         answer: Callable[[object], tuple[int, str, str]], replay: Callable[[IdempotencyKey], object]):
    """Run `run()` once per (user, key): the first time in one transaction with the key's row,
    storing `answer(response)` = (status, body, location) when the status is below 400;
    afterwards `replay(row)`."""
    if not KEY_PATTERN.fullmatch(key):  # fullmatch: "$" alone would let a trailing newline through
        raise KeyProblem(_("An idempotency key has 8 to 128 letters, digits or . _ : - characters."), 400)
    for _attempt in range(3):
        with transaction.atomic():
            try:
                with transaction.atomic():  # a savepoint: a repeat's failed insert keeps the transaction usable
                    row = IdempotencyKey.objects.create(user=user, key=key, fingerprint=request_fingerprint)
            except IntegrityError:
                row = IdempotencyKey.objects.filter(user=user, key=key).first()
                if row is None:
                    continue  # the first one failed and rolled back meanwhile: try as the first
                if row.fingerprint != request_fingerprint:
                    raise KeyProblem(_("This idempotency key was already used for a different request."),
                                     422) from None
                if not row.status_code:
                    raise KeyProblem(_("A request with this idempotency key is still being handled."), 409) from None
                return replay(row)
            response = run()
            status, body, location = answer(response)
            if status >= 400:
                transaction.set_rollback(True)  # nothing was made: a retry may try again
                return response
            row.status_code, row.body, row.location = status, body, location
            row.save(update_fields=["status_code", "body", "location"])
            return response
    raise KeyProblem(_("A request with this idempotency key is still being handled."), 409)


def forget_old() -> int:
    """Remove keys past KEEP (the schedule's daily pass)."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - KEEP).delete()
    return deleted


# --- The API -----------------------------------------------------------------------------------------


def api_answer(response) -> tuple[int, str, str]:
    """What is stored of an API answer: its status, its data as JSON and its Location."""
    return response.status_code, json.dumps(response.data, cls=DjangoJSONEncoder), response.get("Location", "")


def api_replay(row: IdempotencyKey):
    """A stored API answer given again."""
    from rest_framework.response import Response

    replayed = Response(json.loads(row.body), status=row.status_code)
    if row.location:
        replayed["Location"] = row.location
    replayed[REPLAYED_HEADER] = "true"
    return replayed


class IdempotentAPIMixin:
    """For DRF views: a POST with an Idempotency-Key header is done once per key and user, after
    authentication and the permission checks, in one transaction with the key's row."""

    def dispatch(self, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if request.method != "POST" or not key:
            return super().dispatch(request, *args, **kwargs)
        from rest_framework.response import Response

        # APIView.dispatch, with the handler run through `once`. The API's routes pass every URL
        # part by name (args stays empty); DRF's request and response hooks read neither.
        self.args, self.kwargs = args, kwargs
        request = self.initialize_request(request)
        self.request = request
        self.headers = self.default_response_headers
        try:
            self.initial(request, **kwargs)
            handler = getattr(self, request.method.lower(), self.http_method_not_allowed)
            try:
                response = once(user=request.user, key=key,
                                request_fingerprint=fingerprint("POST", request.path, canonical(request.data)),
                                run=lambda: handler(request, **kwargs), answer=api_answer, replay=api_replay)
            except KeyProblem as problem:
                response = Response({"detail": problem.message}, status=problem.status)
        except Exception as exc:
            response = self.handle_exception(exc)
        self.response = self.finalize_response(request, response)
        return self.response


def canonical(data) -> bytes:
    """A request's parsed data as bytes that are equal for equal requests (files by name and size)."""
    if hasattr(data, "lists"):
        items = {name: [f"{value.name}:{value.size}" if hasattr(value, "read") else value for value in values]
                 for name, values in data.lists()}
    else:
        items = data
    return json.dumps(items, sort_keys=True, cls=DjangoJSONEncoder, ensure_ascii=False, default=str).encode()


# --- Page forms --------------------------------------------------------------------------------------


def idempotent_post(view):
    """For page views: a POST carrying the form's one-time token (`{% once_token %}`) is done once;
    a repeat is sent where the first one was (its redirect), or shown the same page again."""

    def wrapper(request, *args, **kwargs):
        token = request.POST.get(FORM_FIELD, "") if request.method == "POST" else ""
        if not token or not request.user.is_authenticated:
            return view(request, *args, **kwargs)
        body = json.dumps(sorted((name, request.POST.getlist(name)) for name in request.POST
                                 if name not in ("csrfmiddlewaretoken", FORM_FIELD)), ensure_ascii=False).encode()
        body += b"".join(f"{name}:{upload.name}:{upload.size}".encode()
                         for name in sorted(request.FILES) for upload in request.FILES.getlist(name))

        def answer(response):
            if response.status_code in (301, 302, 303):
                return response.status_code, "", response["Location"]
            if response.status_code >= 400 or getattr(response, "streaming", False):
                return response.status_code, "", ""
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            return response.status_code, response.content.decode(response.charset or "utf-8"), ""

        def replay(row):
            if row.location:
                return HttpResponseRedirect(row.location)
            return HttpResponse(row.body, status=row.status_code)

        try:
            return once(user=request.user, key=token, request_fingerprint=fingerprint("POST", request.path, body),
                        run=lambda: view(request, *args, **kwargs), answer=answer, replay=replay)
        except KeyProblem:
            return view(request, *args, **kwargs)  # a token not made by the portal: handled as without one

    wrapper.__wrapped__ = view
    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper
