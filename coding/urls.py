"""The coding app's study URLs; mounted under /studies/<study_slug>/ by workbench.urls."""

from django.urls import path

from coding import (
    agreement_views,
    assignment_views,
    coding_views,
    notes_views,
    reconciliation_views,
    views,
)

urlpatterns = [
    path("codebook/", views.codebook, name="codebook"),
    path("codebook/new/", views.code_create, name="code_create"),
    path("codebook/settings/", views.codebook_settings, name="codebook_settings"),
    path("codebook/seed/guide/", views.codebook_seed_guide, name="codebook_seed_guide"),
    path(
        "codebook/seed/dimensions/",
        views.codebook_seed_dimensions,
        name="codebook_seed_dimensions",
    ),
    path("codebook/import/", views.codebook_import, name="codebook_import"),
    path("codebook.csv", views.codebook_csv, name="codebook_csv"),
    path("codebook.qdc", views.codebook_qdc, name="codebook_qdc"),
    path("codebook/<int:pk>/", views.code_row, name="code_row"),
    path("codebook/<int:pk>/edit/", views.code_edit, name="code_edit"),
    path("codebook/<int:pk>/retire/", views.code_retire, name="code_retire"),
    path("codebook/<int:pk>/reactivate/", views.code_reactivate, name="code_reactivate"),
    path("codebook/<int:pk>/approve/", views.code_approve, name="code_approve"),
    path("codebook/<int:pk>/history/", views.code_history, name="code_history"),
    *assignment_views.urlpatterns,
    *coding_views.urlpatterns,
    *agreement_views.urlpatterns,
    *notes_views.urlpatterns,
    *reconciliation_views.urlpatterns,
]
