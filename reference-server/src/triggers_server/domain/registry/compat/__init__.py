"""Rule-based compatibility check between two JSON Schemas (the seven Confluent modes).

The core question is asymmetric: "can every payload a *writer* schema accepts be read by a *reader*
schema?". BACKWARD asks it with the previous version as writer and the candidate as reader; FORWARD the
other way round; FULL both. The answer is rule-based rather than a full language-inclusion proof: each
keyword of the reader must be implied by the writer (same or stricter constraint), combinators are
compared branch by branch, and anything the rules cannot prove is reported as an incompatibility.

Content models: a property the reader constrains but the writer left open ("open content model") is an
incompatibility, because old payloads may hold that name with any value; a property the writer declared
that the reader no longer lists is checked against the reader's ``patternProperties``/
``additionalProperties`` ("partially open" / closed models). ``unevaluatedProperties``/``unevaluatedItems``
next to no in-place applicator are read as the ``additionalProperties``/``items`` they mean (``unevaluated``).

Both schemas are first translated to 2020-12 in their dialect (``translate``): draft-04..07 forms (``items``
arrays, ``additionalItems``, ``dependencies``, boolean ``exclusiveMinimum``) become their 2020-12 keywords,
keywords next to ``$ref`` are dropped up to draft-07, keywords a dialect lacks are dropped. ``$ref`` is
followed within the schema (cycles are cut) and ``patternProperties`` names match by ECMA-262. A ``oneOf``
whose branches are provably disjoint (distinct types or values) is an ``anyOf``; otherwise each writer
payload must match one branch and provably no other (Confluent and Apicurio compare it as a union, which
is unsound). A writer restricted by ``const``/``enum`` is compatible when each listed value validates
against the reader (``instances``).

Each finding's ``path`` is a JSON pointer along the keywords of the reader schema (the candidate for
BACKWARD, the registered version for FORWARD), through ``$ref`` as written, e.g.
``/properties/amount/type``. Comparisons that grow too large are reported as ``too_complex``.

Layout: ``modes`` applies the modes to a version history, ``checker`` is the recursive comparison
(writer conjuncts, reader decomposition, cycles, budget), and one module per keyword family judges it:
``combinators``, ``json_types`` (type/enum/const), ``numbers``, ``strings``, ``arrays``, ``objects``
(``counts`` holds the shared size limits); ``translate`` and ``unevaluated`` rewrite the documents first
(with ``walk``), ``instances`` validates listed writer values; ``nodes`` and ``values`` are the typed plumbing.
"""

from triggers_server.domain.registry.compat.checker import CHECK_BUDGET, find_incompatibilities
from triggers_server.domain.registry.compat.findings import Incompatibility
from triggers_server.domain.registry.compat.modes import (
    DEFAULT_MODE,
    CompatibilityMode,
    PreviousVersion,
    check_compatibility,
)

__all__ = [
    "CHECK_BUDGET",
    "DEFAULT_MODE",
    "CompatibilityMode",
    "Incompatibility",
    "PreviousVersion",
    "check_compatibility",
    "find_incompatibilities",
]
