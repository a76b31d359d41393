"""The coding app's part of the demo study (``manage.py seed_demo``): a codebook, ten interviews
coded by the two demo coders, nine of them reconciled into a consensus, the team's notes along
the way, and a theme structure.

- ``codebook``: deductive codes, the inductive codes found interview by interview, the lead's
  redefinitions;
- ``interviews``: how each coder coded each interview, and the reviewer's decisions;
- ``analysis``: the interviews coded and reconciled in interview order, through the services;
- ``notes``: agreement rounds, debriefings, memos and the tentative synthesis after I6;
- ``themes``: categories and themes, and the codes in them.
"""

from coding.demo.analysis import seed_analysis
from coding.demo.codebook import seed
from coding.demo.themes import seed_themes

__all__ = ["seed", "seed_analysis", "seed_themes"]
