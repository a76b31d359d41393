"""Demo data each app adds to the demo study (``manage.py seed_demo``), registered at start-up.

The workbench's command creates the study, its accounts and its design, then runs every
registered seeder in order (smaller first), so it needs to know no other app. A seeder is called
as ``seed(study=..., users=...)``, ``users`` being the demo accounts by username, and must be
idempotent like the command: adding what is missing, changing nothing that exists.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Seeder:
    name: str
    order: int
    seed: Callable[..., None]


_seeders: dict[str, Seeder] = {}


def register(seeder: Seeder) -> None:
    """Add ``seeder`` (again: an app's ``ready`` may run twice; the newer one replaces it)."""
    _seeders[seeder.name] = seeder


def seeders() -> list[Seeder]:
    return sorted(_seeders.values(), key=lambda seeder: (seeder.order, seeder.name))
