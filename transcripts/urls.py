"""The transcripts app's study URLs; mounted under /studies/<study_slug>/ by workbench.urls."""

from transcripts.views import cases, participants, pseudonyms, transcripts

urlpatterns = [
    *participants.urlpatterns,
    *cases.urlpatterns,
    *transcripts.urlpatterns,
    *pseudonyms.urlpatterns,
]
