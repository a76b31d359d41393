"""Random public ids for rows that appear in URLs and pages.

A sequence number in a URL tells whoever sees two of them how many rows were made in between:
coder A, seeing their own codings numbered 41 and 47, learns that the other coder of the
transcript made five while both were still coding blind. So codings, memos and debrief notes
are addressed by a random id; the primary key stays internal (foreign keys, ordering).

72 random bits (12 URL-safe characters): unguessable, and a collision, which the unique
constraint would turn into an error, is not expected before ~10^10 rows.
"""

import secrets

from django.db import models

LENGTH = 12


def new_public_id() -> str:
    return secrets.token_urlsafe(LENGTH * 3 // 4)


def public_id_field() -> models.CharField:
    return models.CharField(max_length=LENGTH, unique=True, editable=False, default=new_public_id)
