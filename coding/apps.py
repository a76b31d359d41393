"""The coding app. At start-up it tells the apps it depends on what it keeps of theirs, so that
they never import it (``tests/test_architecture.py``): ``transcripts.spans`` learns which of
coding's rows hold spans of a transcript (``coding.services.spans``), ``workbench.dashboard``
gets the coding-progress and reconciliation-queue panels, ``transcripts.panels`` the queue
above the transcript list, and ``workbench.demo`` the demo codebook, coding and notes.
"""

from django.apps import AppConfig

# --- the dashboard and the demo ----------------------------------------------------------------


def _dashboard_panel(request, access) -> dict:
    """Coding progress: layer statuses only, never codings or their counts (blind coding)."""
    from coding.selectors.assignments import my_layers, study_percent, transcript_progress
    from coding.selectors.blindness import blind_layer_ids

    blind = blind_layer_ids(request.user, access.perms, access.study)
    rows = transcript_progress(access.study, blind)
    return {
        "progress": rows,
        "study_percent": study_percent(rows),
        "my_layers": my_layers(access.study, request.user),
    }


def _reconciliation_queue(request, access) -> dict:
    """Transcripts waiting for this reviewer or lead to reconcile: only once both layers are
    submitted, and never one they coded themselves."""
    from coding.selectors.blindness import OVERSEERS
    from coding.selectors.reconciliation import waiting_for_reconciliation

    return {
        "may_reconcile": bool(OVERSEERS & set(access.perms)),
        "reconciliation_queue": waiting_for_reconciliation(
            request.user, access.perms, access.study
        ),
    }


def _reconciliation_queue_on_list(request, access) -> dict:
    """The same queue above the transcript list, shown only when something waits."""
    return _reconciliation_queue(request, access) | {"reconciliation_queue_compact": True}


def _seed_demo(*, study, users) -> None:
    """A codebook (deductive codes from the guide and dimensions, inductive ones found in the
    interviews), the interviews coded by the two demo coders and reconciled by the reviewer in
    interview order (the last one still being coded), the team's notes along the way and a
    theme structure."""
    from coding import demo

    coders = [users["coder1"], users["coder2"]]
    demo.seed(study=study, admin=users["admin"])
    demo.seed_analysis(study=study, lead=users["lead"], reviewer=users["reviewer"], coders=coders)
    demo.seed_themes(study=study, lead=users["lead"])


class CodingConfig(AppConfig):
    name = "coding"

    def ready(self):
        from coding.selectors.blindness import audit_hider
        from coding.services.spans import HOLDERS
        from transcripts import panels as transcript_list
        from transcripts import spans
        from workbench import audit, dashboard, demo

        audit.register_hider(audit_hider)
        from coding.selectors.audit import register_describers

        register_describers()

        for holder in HOLDERS:  # in the order they must be locked
            spans.register(holder)
        panel = "coding/panels/progress.html"
        dashboard.register(dashboard.Panel("coding progress", 20, panel, _dashboard_panel))
        queue = "coding/panels/reconciliation_queue.html"
        dashboard.register(dashboard.Panel("reconciliation", 15, queue, _reconciliation_queue))
        transcript_list.register(
            dashboard.Panel("reconciliation", 15, queue, _reconciliation_queue_on_list)
        )
        demo.register(demo.Seeder("coding", 20, _seed_demo))
