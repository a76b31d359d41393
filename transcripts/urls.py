"""The transcripts app's study URLs; mounted under /studies/<study_slug>/ by workbench.urls."""

from transcripts.views import cases, corrections, imports, participants, pseudonyms, transcripts

urlpatterns = [
    *participants.urlpatterns,
    *cases.urlpatterns,
    *transcripts.urlpatterns,
    *imports.urlpatterns,
    *pseudonyms.urlpatterns,
    *corrections.urlpatterns,
]
