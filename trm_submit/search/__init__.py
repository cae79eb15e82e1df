"""Program search: a second candidate source beside TRM (a typed DSL of grid transformations, a breadth-first
enumerator over their compositions and an exact verifier on the demonstrations).

Data rule: the primitives, their parameters and every threshold in this subpackage were designed from the
ARC-AGI-1 and ARC-AGI-2 TRAINING sets and general ARC knowledge. The evaluation sets are only measured,
never read to invent or tune anything.

Public entry point: `solve_task(task, budget, max_depth=3, max_states=200_000) -> SearchResult`
(see `engine`). This subpackage never imports torch nor the model/inference modules: it runs in CPU
worker processes.
"""

from __future__ import annotations

from .engine import SearchResult, solve_task, warm_up

__all__ = ["SearchResult", "solve_task", "warm_up"]
