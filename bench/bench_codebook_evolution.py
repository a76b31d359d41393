"""Quick check: merging a code with 10,000 codings (issue 12 target: <= 2 s).

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/<scratch db> \
     .venv/bin/python bench/bench_codebook_evolution.py
Migrates that database, builds a study (50 transcripts of ~40,000 characters, two coders each,
100 codings of A per layer = 10,000, plus 20 of B per layer overlapping a quarter of them) in a
transaction, times ``codes_merge`` and its undo, and rolls everything back.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402


def main():
    call_command("migrate", verbosity=0)
    from coding.models import Coding, CodingMode
    from coding.services.assignments import assignment_set
    from coding.services.codebook import code_create
    from coding.services.codebook_evolution import codebook_operation_undo, codes_merge
    from tests.factories import UserFactory, give_roles, ready_transcript
    from workbench.roles import Role
    from workbench.services.studies import study_create

    with transaction.atomic():
        admin = UserFactory(username="bench-admin")
        study = study_create(actor=admin, name="Merge bench")
        lead, c1, c2 = (UserFactory(username=f"bench-{n}") for n in ("lead", "c1", "c2"))
        give_roles(study, lead, Role.LEAD)
        give_roles(study, c1, Role.CODER)
        give_roles(study, c2, Role.CODER)
        a = code_create(actor=admin, study=study, name="A")
        b = code_create(actor=admin, study=study, name="B")
        text = ("I1: we waited for the cluster and then we shipped the model. " * 650) + "\n"
        rows = []
        for i in range(50):
            t = ready_transcript(study, lead, text, code=f"P{i}")
            assignment_set(actor=lead, transcript=t, primary=c1, second=c2,
                           mode=CodingMode.INDEPENDENT)  # fmt: skip
            for layer in t.layers.all():
                for j in range(100):
                    s = j * 400
                    rows.append(Coding(layer=layer, code=a, start=s, end=s + 60,
                                       snippet=text[s : s + 60]))  # fmt: skip
                    if j % 5 == 0:
                        rows.append(Coding(layer=layer, code=b, start=s + 30, end=s + 90,
                                           snippet=text[s + 30 : s + 90]))  # fmt: skip
        Coding.objects.bulk_create(rows, batch_size=2000)
        print(f"{Coding.objects.filter(code=a).count()} codings of A, "
              f"{Coding.objects.filter(code=b).count()} of B")  # fmt: skip
        started = time.perf_counter()
        op = codes_merge(actor=admin, sources=[a], target=b)
        merged = time.perf_counter() - started
        started = time.perf_counter()
        codebook_operation_undo(actor=admin, operation=op)
        undone = time.perf_counter() - started
        print(f"merge: {merged:.2f} s, undo: {undone:.2f} s")
        transaction.set_rollback(True)


if __name__ == "__main__":
    main()
