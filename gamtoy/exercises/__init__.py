"""Try-it exercises for the notebooks: each `check_*` takes a student's function, runs it on
cases with known answers and says what is wrong (shape, sign, scale, a failing case) or "correct".
Reference solutions live in `gamtoy.exercises.solutions` (one per checker), out of the cells a
student edits. A wrong answer gets the checker's diagnosis and a tiered hint (a nudge, then a hint,
the formula at the third try; `reset_hints()` starts again); an exception the student's function
raises is named (StudentError) instead of escaping as a raw traceback.
"""
from ._check import ExerciseError as ExerciseError
from ._check import StudentError as StudentError
from ._check import compare as compare
from .flatness import *  # noqa: F401,F403  (notebook 01: R0, R1)
from .hints import HINTS as HINTS
from .hints import reset_hints as reset_hints
from .lemmas import *  # noqa: F401,F403  (notebook 03)
from .mlp import *  # noqa: F401,F403  (notebook 04)
from .ridge import *  # noqa: F401,F403  (notebook 02: SAM/GSAM/GNP directions)
from .start import *  # noqa: F401,F403  (notebook 00: w_adv)
