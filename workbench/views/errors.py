"""The 403 page: the site's look and, for a member refused inside a study, its navigation.

404 and 500 use Django's default views with ``templates/404.html`` and ``templates/500.html``
(500 is rendered without the request or the database, so it extends nothing).
"""

from django.http import HttpResponseForbidden
from django.template import loader


def permission_denied(request, exception=None):
    access = getattr(request, "study_access", None)
    context = {"study": access.study, "access": access} if access else {}
    return HttpResponseForbidden(loader.render_to_string("403.html", context, request))
