"""Identity-term swaps: families of paired terms (pronouns, gendered nouns, first names, user pairs).

A swap replaces every whole-word occurrence of either side of a pair by the other, in one pass,
keeping the case of the word it replaces, so that swapping twice gives the text back. A term with
two counterparts (``her``: ``him`` or ``his``) chooses by the word after it: a following word that is
not a function word makes it a determiner (``her book`` -> ``his book``), anything else an object
(``saw her.`` -> ``saw him.``). The rule is a heuristic: ``made her laugh`` becomes ``made his laugh``.

The shipped families are data (``data/fairness/counterfactual.yaml``); a user file has the same shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from modelsteward.data import load_yaml

FAMILIES_FILE = "fairness/counterfactual.yaml"

_NEXT_WORD = re.compile(r"\s+([^\W\d_][\w'-]*)")
"""The word right after a term, across spaces only: punctuation ends the clause."""


@dataclass(frozen=True, slots=True)
class ContextSwap:
    """The two counterparts of an ambiguous term, chosen by what follows it."""

    before_word: str
    """Used when a word that is not a function word follows (``her book`` -> ``his book``)."""
    otherwise: str
    """Used at the end of a clause or before a function word (``saw her.`` -> ``saw him.``)."""


@dataclass(frozen=True, slots=True)
class SwapFamily:
    """A named set of paired identity terms, swapped both ways. Build with :func:`swap_family`."""

    name: str
    counterparts: Mapping[str, str]
    """Each unambiguous term (case folded) and its counterpart (as written in the pairs)."""
    context: Mapping[str, ContextSwap]
    """Each term (case folded) with two counterparts, and how to choose between them."""
    function_words: frozenset[str]
    pattern: re.Pattern[str] = field(repr=False, compare=False)
    """Matches any term of the family as a whole word, in any case, longest first."""

    def swap(self, text: str) -> str:
        """``text`` with every term of the family replaced by its counterpart, case kept."""
        return self.pattern.sub(self._replace, text)

    def applies(self, text: str) -> bool:
        """Whether ``text`` holds a term of this family."""
        return self.pattern.search(text) is not None

    def _replace(self, match: re.Match[str]) -> str:
        term = match.group(0)
        key = term.casefold()
        choice = self.context.get(key)
        if choice is None:
            return _with_case_of(term, self.counterparts[key])
        following = _NEXT_WORD.match(match.string, match.end())
        before_word = following is not None and following.group(1).casefold() not in self.function_words
        return _with_case_of(term, choice.before_word if before_word else choice.otherwise)


def swap_family(
    name: str,
    pairs: Iterable[tuple[str, str]],
    *,
    context: Mapping[str, ContextSwap] | None = None,
    function_words: Iterable[str] = (),
) -> SwapFamily:
    """A family from user-supplied ``pairs``; raise ValueError on an empty or ambiguous family.

    A term that appears with two counterparts needs a ``context`` entry choosing between them.
    """
    options: dict[str, dict[str, str]] = {}
    for pair in pairs:
        if len(pair) != 2 or not all(isinstance(t, str) and t.strip() for t in pair):
            raise ValueError(f"swap family {name!r}: each pair must be two non-empty terms (got {pair!r})")
        first, second = (term.strip() for term in pair)
        if first.casefold() == second.casefold():
            raise ValueError(f"swap family {name!r}: {first!r} is paired with itself")
        options.setdefault(first.casefold(), {})[second.casefold()] = second
        options.setdefault(second.casefold(), {})[first.casefold()] = first
    if not options:
        raise ValueError(f"swap family {name!r} has no pairs")
    chosen = {key.casefold(): value for key, value in (context or {}).items()}
    counterparts = {}
    for term, targets in options.items():
        if term in chosen:
            wanted = {chosen[term].before_word.casefold(), chosen[term].otherwise.casefold()}
            if wanted != set(targets):
                raise ValueError(
                    f"swap family {name!r}: the context for {term!r} must choose between {sorted(targets)}"
                )
        elif len(targets) > 1:
            raise ValueError(
                f"swap family {name!r}: {term!r} has counterparts {sorted(targets)}; add a context entry"
            )
        else:
            counterparts[term] = next(iter(targets.values()))
    stray = set(chosen) - set(options)
    if stray:
        raise ValueError(f"swap family {name!r}: context given for terms in no pair: {sorted(stray)}")
    alternatives = "|".join(re.escape(term) for term in sorted(options, key=len, reverse=True))
    return SwapFamily(
        name=name,
        counterparts=counterparts,
        context=chosen,
        function_words=frozenset(word.casefold() for word in function_words),
        pattern=re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE),
    )


def load_families(path: Path | None = None) -> tuple[SwapFamily, ...]:
    """The swap families in the YAML file ``path``, or the shipped ones when ``path`` is None.

    A user file without ``function_words`` uses the shipped list. Raise ValueError naming the file
    and the problem on a malformed file.
    """
    if path is None:
        return parse_families(load_yaml(FAMILIES_FILE), FAMILIES_FILE, ())
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: not valid YAML: {error}") from None
    shipped = load_yaml(FAMILIES_FILE)["function_words"]
    return parse_families(raw, str(path), shipped)


def parse_families(raw: Any, source: str, default_function_words: Sequence[str]) -> tuple[SwapFamily, ...]:
    """Validate the parsed YAML of a families file (``function_words`` and ``families``)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("families"), dict) or not raw["families"]:
        raise ValueError(f"{source}: expected a mapping with a non-empty `families` mapping")
    words = raw.get("function_words", default_function_words)
    if not isinstance(words, list | tuple) or not all(isinstance(w, str) for w in words):
        raise ValueError(f"{source}: `function_words` must be a list of words")
    families = []
    for name, body in raw["families"].items():
        where = f"{source}: families.{name}"
        try:
            families.append(
                swap_family(
                    str(name), _pairs(body, where), context=_context(body, where), function_words=words
                )
            )
        except ValueError as error:
            raise ValueError(f"{source}: {error}") from None
    return tuple(families)


def _pairs(body: Any, where: str) -> list[tuple[str, str]]:
    if not isinstance(body, dict) or not (
        {"pairs"} <= set(body) <= {"pairs", "context"} or set(body) == {"names"}
    ):
        raise ValueError(f"{where}: expected `pairs` (with an optional `context`) or `names`")
    if "names" in body:
        groups = body["names"]
        if not isinstance(groups, dict) or len(groups) != 2:
            raise ValueError(f"{where}: `names` must map exactly two groups to lists of names")
        (first, firsts), (second, seconds) = groups.items()
        if not isinstance(firsts, list) or not isinstance(seconds, list) or len(firsts) != len(seconds):
            raise ValueError(f"{where}: the name lists {first!r} and {second!r} must be lists of one length")
        return list(zip(firsts, seconds, strict=True))
    pairs = body["pairs"]
    if not isinstance(pairs, list) or not all(isinstance(pair, list) and len(pair) == 2 for pair in pairs):
        raise ValueError(f"{where}: `pairs` must be a list of [term, counterpart] lists")
    return [(first, second) for first, second in pairs]


def _context(body: Mapping[str, Any], where: str) -> dict[str, ContextSwap]:
    entries = body.get("context") or {}
    if not isinstance(entries, dict):
        raise ValueError(f"{where}: `context` must map terms to {{before_word, otherwise}}")
    context = {}
    for term, choice in entries.items():
        if not isinstance(choice, dict) or set(choice) != {"before_word", "otherwise"}:
            raise ValueError(f"{where}: context.{term} needs exactly `before_word` and `otherwise`")
        context[str(term)] = ContextSwap(str(choice["before_word"]), str(choice["otherwise"]))
    return context


def _with_case_of(source: str, target: str) -> str:
    """``target`` cased like ``source``: ``HE`` -> ``SHE``, ``He`` -> ``She``, ``he`` -> ``she``."""
    if len(source) > 1 and source.isupper():
        return target.upper()
    if source[:1].isupper():
        return target[:1].upper() + target[1:]
    return target.lower()
