"""The transcripts app; at start-up it adds its panel to the study dashboard and its demo data
to the demo study (``workbench.dashboard``, ``workbench.demo``: the workbench imports nothing
of this app)."""

from django.apps import AppConfig


def _dashboard_panel(request, access) -> dict:
    """Interviews: transcripts by status, participants by consent state."""
    from transcripts.selectors.transcripts import study_overview

    return {"overview": study_overview(access.study)}


def _seed_demo(*, study, users) -> None:
    """Participants, consent and three short interviews."""
    from transcripts import demo

    lead = users["lead"]
    demo.seed(study=study, admin=users["admin"], lead=lead, interviewers=[lead])


class TranscriptsConfig(AppConfig):
    name = "transcripts"

    def ready(self):
        from workbench import dashboard, demo

        panel = "transcripts/panels/interviews.html"
        dashboard.register(dashboard.Panel("interviews", 10, panel, _dashboard_panel))
        demo.register(demo.Seeder("transcripts", 10, _seed_demo))
        from transcripts.selectors.audit import register_describers

        register_describers()
