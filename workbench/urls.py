from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from workbench.views import accounts as account_views
from workbench.views import audit as audit_views
from workbench.views import design as design_views
from workbench.views import invitations as invitation_views
from workbench.views import members as member_views
from workbench.views import studies as study_views

study_urls = [
    path("", study_views.study_dashboard, name="study_dashboard"),
    path("edit/", study_views.study_edit, name="study_edit"),
    path("members/", member_views.members, name="members"),
    path("members/invite/", member_views.member_invite, name="member_invite"),
    path(
        "members/invitations/<uuid:invitation_id>/resend/",
        member_views.invitation_resend,
        name="invitation_resend",
    ),
    path(
        "members/invitations/<uuid:invitation_id>/withdraw/",
        member_views.invitation_withdraw,
        name="invitation_withdraw",
    ),
    path("members/<int:user_id>/roles/", member_views.member_roles, name="member_roles"),
    path("members/<int:user_id>/link/", member_views.member_link_resend, name="member_link_resend"),
    path("design/", design_views.design, name="design"),
    path("design/<str:kind>/new/", design_views.design_item_create, name="design_item_create"),
    path(
        "design/dimension/<int:parent_id>/values/new/",
        design_views.design_item_create,
        {"kind": "value"},
        name="dimension_value_create",
    ),
    path("design/<str:kind>/<int:pk>/", design_views.design_item, name="design_item"),
    path(
        "design/<str:kind>/<int:pk>/edit/", design_views.design_item_edit, name="design_item_edit"
    ),
    path(
        "design/<str:kind>/<int:pk>/delete/",
        design_views.design_item_delete,
        name="design_item_delete",
    ),
    path(
        "design/<str:kind>/<int:pk>/move/", design_views.design_item_move, name="design_item_move"
    ),
    path("audit/", audit_views.audit_trail, name="audit_trail"),
    path("audit.csv", audit_views.audit_csv, name="audit_csv"),
    path("", include("transcripts.urls")),
    path("", include("coding.urls")),
]

urlpatterns = [
    # Browsers ask for /favicon.ico whatever the page links; send them to the SVG icon (looked
    # up per request: the hashed name exists only once collectstatic has run).
    path(
        "favicon.ico",
        RedirectView.as_view(url=lazy(static, str)("img/favicon.svg"), permanent=True),
    ),
    path("", study_views.study_list, name="study_list"),
    path("studies/new/", study_views.study_create, name="study_create"),
    path("studies/<slug:study_slug>/", include(study_urls)),
    path("accounts/login/", account_views.SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("invitations/<str:token>/", invitation_views.invitation_open, name="invitation_open"),
    path(
        "invitations/<uuid:invitation_id>/accept/",
        invitation_views.invitation_accept,
        name="invitation_accept",
    ),
    path(
        "invitations/<uuid:invitation_id>/decline/",
        invitation_views.invitation_decline,
        name="invitation_decline",
    ),
    # Links of the former invitation flow, for accounts created before invitations were
    # accepted (they set a password; member_link_resend sends a new one).
    path(
        "accounts/invitation/<uidb64>/<token>/",
        member_views.InvitationAcceptView.as_view(),
        name="account_activate",
    ),
    path("admin/", admin.site.urls),
]

handler403 = "workbench.views.errors.permission_denied"
