"""The audit trail: browse, filter, CSV."""

import csv
import json
from itertools import islice

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from workbench import audit
from workbench.access import study_for
from workbench.exports import csv_safe
from workbench.forms import (
    AuditFilterForm,
)
from workbench.selectors import audit as audit_selectors


def _audit_filters(request, access):
    verbs, object_types = audit_selectors.audit_vocabulary(
        access.study, user=request.user, perms=access.perms
    )
    form = AuditFilterForm(request.GET or None, verbs=verbs, object_types=object_types)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    return form, filters


@require_GET
@login_required
def audit_trail(request, study_slug):
    access = study_for(request, study_slug, need="view_audit")
    form, filters = _audit_filters(request, access)
    events = audit_selectors.audit_events(
        access.study, filters, user=request.user, perms=access.perms
    )
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    page.object_list = audit.describe_events(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "access": access,
        "study": access.study,
        "form": form,
        "page": page,
        "query": query.urlencode(),
    }
    template = "workbench/audit.html"
    if request.htmx:
        template += "#results"
    return render(request, template, context)


class _Echo:
    def write(self, value):
        return value


@require_GET
@login_required
def audit_csv(request, study_slug):
    access = study_for(request, study_slug, need="view_audit")
    form, filters = _audit_filters(request, access)
    events = audit_selectors.audit_events(
        access.study, filters, user=request.user, perms=access.perms
    )
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(
            [
                "at",
                "actor",
                "description",
                "verb",
                "object_type",
                "object_id",
                "object",
                "before",
                "after",
            ]
        )
        # Described a chunk at a time: a few queries per 2,000 events, not per event.
        stream = events.iterator(chunk_size=2000)
        while chunk := list(islice(stream, 2000)):
            yield from (_row(writer, event) for event in audit.describe_events(chunk))

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{access.study.slug}-audit.csv"'
    return response


def _row(writer, event) -> str:
    return writer.writerow(
        [
            event.at.isoformat(),
            event.actor_name,
            csv_safe(f"{event.actor_label} {event.description}"),
            event.verb,
            event.object_type,
            event.object_id,
            csv_safe(event.object_repr),
            csv_safe(_json(event.before)),
            csv_safe(_json(event.after)),
        ]
    )


def _json(value) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)
