"""Create (or bring back) the demo study, modelled on an interview study of open LLM projects.

Idempotent: running it again changes nothing that exists, adds what is missing and resets the
demo passwords so that the printed ones always work.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from workbench import demo
from workbench.models import Membership, Study
from workbench.roles import Role
from workbench.services import design as design_services
from workbench.services import members as member_services
from workbench.services import studies as study_services

User = get_user_model()

STUDY_SLUG = "open-llm-collaboration"

# username, full name, roles, password
DEMO_USERS = [
    ("admin", "Amara Admin", [Role.ADMIN], "demo-admin-2026"),
    ("lead", "Lena Lead", [Role.LEAD], "demo-lead-2026"),
    ("coder1", "Chen Coder", [Role.CODER], "demo-coder1-2026"),
    ("coder2", "Kofi Coder", [Role.CODER], "demo-coder2-2026"),
    ("reviewer", "Rosa Reviewer", [Role.REVIEWER], "demo-reviewer-2026"),
    ("outsider", "Oscar Outsider", [], "demo-outsider-2026"),
]

RESEARCH_QUESTIONS = [
    (
        "RQ1",
        "At which stages of an open language model's life, from assembling training data to "
        "maintaining a released model, do people collaborate in the open, and what eases or "
        "blocks their participation at each stage?",
    ),
    (
        "RQ2",
        "Why do individual developers and organisations choose to take part in building open "
        "language models together?",
    ),
    (
        "RQ3",
        "How do open language-model projects organise, coordinate and govern the work of "
        "their contributors?",
    ),
]

GUIDE = [
    ("Tell me about your role and how you first got involved in the project.", "", ["RQ1", "RQ2"]),
    (
        "Walk me through how the model came together, from gathering data to the release.",
        "Where did people outside the core team step in?",
        ["RQ1"],
    ),
    (
        "How were datasets contributed, checked and documented?",
        "Who reviewed them? What was turned down, and why?",
        ["RQ1", "RQ3"],
    ),
    (
        "Once the model was out, how did others build on it?",
        "Fine-tuned variants, evaluations, tools, translations.",
        ["RQ1"],
    ),
    ("What made it easy for a newcomer to start contributing?", "", ["RQ1"]),
    (
        "What got in the way of contributors, technically or otherwise?",
        "Compute, skills, language, time zones.",
        ["RQ1"],
    ),
    ("What keeps you personally contributing?", "", ["RQ2"]),
    ("Why does your organisation invest in developing models in the open?", "", ["RQ2"]),
    (
        "How are decisions taken in the project, and who has a say?",
        "Formal roles, votes, maintainers, sponsors.",
        ["RQ3"],
    ),
    (
        "Which channels and tools does the community use to coordinate work?",
        "Chat servers, issue trackers, model hubs, calls.",
        ["RQ3"],
    ),
    ("How are licensing, responsible use and credit for contributions handled?", "", ["RQ3"]),
]

DIMENSIONS = [
    (
        "Lifecycle stage",
        "Where in the model's life the activity happens.",
        ["pre-training", "post-training", "post-release"],
    ),
    (
        "Collaboration type",
        "What is being worked on together.",
        ["model", "data", "software", "evaluation", "non-technical", "compute"],
    ),
    ("Polarity", "Whether it helps or hinders participation.", ["on-ramp", "challenge"]),
]


class Command(BaseCommand):
    help = "Create the demo study and demo accounts (idempotent) and print the sign-ins."

    @transaction.atomic
    def handle(self, *args, **options):
        users = {}
        for username, full_name, _roles, password in DEMO_USERS:
            first, _, last = full_name.partition(" ")
            user, _ = User.objects.get_or_create(
                username=username,
                defaults={"first_name": first, "last_name": last, "email": f"{username}@demo.test"},
            )
            user.set_password(password)
            user.save(update_fields=["password"])
            users[username] = user
        admin = users["admin"]

        study = Study.objects.filter(slug=STUDY_SLUG).first()
        if study is None:
            study = study_services.study_create(
                actor=admin,
                name="Open collaboration on open LLMs",
                slug=STUDY_SLUG,
                description=(
                    "Semi-structured interviews with people who build open large language "
                    "models: where they collaborate, why, and how their projects are governed."
                ),
            )
        for username, _name, roles, _password in DEMO_USERS:
            user = users[username]
            has = set(
                Membership.objects.filter(study=study, user=user).values_list("role", flat=True)
            )
            if roles and not has:
                member_services.member_set_roles(actor=admin, study=study, user=user, roles=roles)

        lead = users["lead"]
        rqs = {rq.label: rq for rq in study.research_questions.all()}
        for label, text in RESEARCH_QUESTIONS:
            if label not in rqs:
                rqs[label] = design_services.research_question_create(
                    actor=lead, study=study, label=label, text=text
                )
        existing_guide = set(study.guide_questions.values_list("text", flat=True))
        for text, probes, labels in GUIDE:
            if text not in existing_guide:
                design_services.guide_question_create(
                    actor=lead,
                    study=study,
                    text=text,
                    probes=probes,
                    research_questions=[rqs[label] for label in labels if label in rqs],
                )
        for name, description, values in DIMENSIONS:
            dimension = study.dimensions.filter(name=name).first()
            if dimension is None:
                design_services.dimension_create(
                    actor=lead, study=study, name=name, description=description, values=values
                )

        # Participants, consent and interviews, a codebook, coding and notes: what the other
        # apps register (``workbench.demo``).
        for seeder in demo.seeders():
            seeder.seed(study=study, users=users)

        self.stdout.write(
            self.style.SUCCESS(f"Demo study ready: “{study.name}” (/studies/{study.slug}/)")
        )
        self.stdout.write("Demo accounts (username / password — role):")
        for username, _name, roles, password in DEMO_USERS:
            role_text = ", ".join(Role(role).label for role in roles) or "no role (sees no study)"
            self.stdout.write(f"  {username:<10} / {password:<20} — {role_text}")
