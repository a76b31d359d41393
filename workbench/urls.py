from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from workbench import views

study_urls = [
    path("", views.study_dashboard, name="study_dashboard"),
    path("edit/", views.study_edit, name="study_edit"),
    path("members/", views.members, name="members"),
    path("members/add/", views.member_add, name="member_add"),
    path("members/invite/", views.member_invite, name="member_invite"),
    path("members/<int:user_id>/roles/", views.member_roles, name="member_roles"),
    path("design/", views.design, name="design"),
    path("design/<str:kind>/new/", views.design_item_create, name="design_item_create"),
    path(
        "design/dimension/<int:parent_id>/values/new/",
        views.design_item_create,
        {"kind": "value"},
        name="dimension_value_create",
    ),
    path("design/<str:kind>/<int:pk>/", views.design_item, name="design_item"),
    path("design/<str:kind>/<int:pk>/edit/", views.design_item_edit, name="design_item_edit"),
    path("design/<str:kind>/<int:pk>/delete/", views.design_item_delete, name="design_item_delete"),
    path("design/<str:kind>/<int:pk>/move/", views.design_item_move, name="design_item_move"),
    path("audit/", views.audit_trail, name="audit_trail"),
    path("audit.csv", views.audit_csv, name="audit_csv"),
    path("", include("transcripts.urls")),
    path("", include("coding.urls")),
]

urlpatterns = [
    path("", views.study_list, name="study_list"),
    path("studies/new/", views.study_create, name="study_create"),
    path("studies/<slug:study_slug>/", include(study_urls)),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/invitation/<uidb64>/<token>/",
        views.InvitationAcceptView.as_view(),
        name="invitation_accept",
    ),
    path("admin/", admin.site.urls),
]
