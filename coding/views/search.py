"""Search across a study's transcripts (``coding.selectors.search``): every member may search
what they may read; a hit links to the reading view and, where the searcher has an open layer,
to the coding view with the hit selected ("code this hit", ``?select=start-end``)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from coding.selectors import search as selectors
from workbench.access import study_for
from workbench.views.shared import int_or_none

TEMPLATE = "coding/search.html"


@require_GET
@login_required
@vary_on_headers("HX-Request")
def search(request, study_slug):
    access = study_for(request, study_slug)
    query = request.GET.get("q", "")
    word_forms = request.GET.get("forms") == "1"
    found = selectors.search(
        access.study,
        request.user,
        query,
        int_or_none(request.GET.get("page")),
        word_forms=word_forms,
    )
    context = {
        "access": access,
        "study": access.study,
        "nav_section": "search",
        "q": query.strip(),
        "found": found,
        "forms_offered": selectors.word_forms_available(),
        "forms": word_forms,
    }
    template = TEMPLATE
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results"
    return render(request, template, context)


urlpatterns = [path("search/", search, name="search")]
