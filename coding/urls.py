"""The coding app's study URLs; mounted under /studies/<study_slug>/ by workbench.urls."""

from django.urls import path

from coding.views import agreement as agreement_views
from coding.views import assignments as assignment_views
from coding.views import codebook as codebook_views
from coding.views import codebook_evolution as evolution_views
from coding.views import codings as coding_views
from coding.views import matrices as matrix_views
from coding.views import notes as notes_views
from coding.views import reconciliation as reconciliation_views
from coding.views import retrieval as retrieval_views
from coding.views import saturation as saturation_views
from coding.views import search as search_views
from coding.views import themes as theme_views

urlpatterns = [
    path("codebook/", codebook_views.codebook, name="codebook"),
    path("codebook/new/", codebook_views.code_create, name="code_create"),
    path("codebook/settings/", codebook_views.codebook_settings, name="codebook_settings"),
    path("codebook/seed/guide/", codebook_views.codebook_seed_guide, name="codebook_seed_guide"),
    path(
        "codebook/seed/dimensions/",
        codebook_views.codebook_seed_dimensions,
        name="codebook_seed_dimensions",
    ),
    path("codebook/import/", codebook_views.codebook_import, name="codebook_import"),
    path("codebook.csv", codebook_views.codebook_csv, name="codebook_csv"),
    path("codebook.qdc", codebook_views.codebook_qdc, name="codebook_qdc"),
    path("codebook/<str:ref>/", codebook_views.code_row, name="code_row"),
    path("codebook/<str:ref>/edit/", codebook_views.code_edit, name="code_edit"),
    path("codebook/<str:ref>/retire/", codebook_views.code_retire, name="code_retire"),
    path("codebook/<str:ref>/reactivate/", codebook_views.code_reactivate, name="code_reactivate"),
    path("codebook/<str:ref>/approve/", codebook_views.code_approve, name="code_approve"),
    path("codebook/<str:ref>/history/", codebook_views.code_history, name="code_history"),
    path("codebook/<str:ref>/merge/", evolution_views.code_merge, name="code_merge"),
    path("codebook/<str:ref>/split/", evolution_views.code_split, name="code_split"),
    path("codebook/changes/<str:ref>/", evolution_views.code_operation, name="code_operation"),
    path(
        "codebook/changes/<str:ref>/undo/",
        evolution_views.code_operation_undo,
        name="code_operation_undo",
    ),
    *assignment_views.urlpatterns,
    *coding_views.urlpatterns,
    *agreement_views.urlpatterns,
    *notes_views.urlpatterns,
    *reconciliation_views.urlpatterns,
    *theme_views.urlpatterns,
    *matrix_views.urlpatterns,
    *retrieval_views.urlpatterns,
    *search_views.urlpatterns,
    *saturation_views.urlpatterns,
]
