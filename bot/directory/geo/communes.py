"""The commune index: a query typed as a town (name, postcode, département, arrondissement) to communes."""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from pathlib import Path
from typing import Collection, Iterable, Optional

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot.directory.geo import in_text
from bot.directory.geo.names import (
    ARTICLES,
    compact,
    key_words,
    name_key,
    name_keys,
    phonetic_key,
    phonetic_keys,
    strip_article,
    typo_budget,
)
from bot.directory.geo.reference import (
    AMBIGUOUS,
    DEFAULT_PATH,
    FOUND,
    NOT_FOUND,
    POSTCODE,
    Arrondissement,
    Commune,
    LookupResult,
    arrondissements_by_number,
    read_arrondissements,
    read_communes,
    read_departements,
)

_NOT_FOUND = LookupResult(NOT_FOUND, ())
# A homonym this big and this much bigger than the next one is taken without asking.
BIG_CITY = 20_000
HOMONYM_RATIO = 50
# A commune named like a département is meant only if it is a real town (Mayenne, Vienne).
DEP_NAMESAKE_MIN = 5_000

_DEP_CONNECTORS = {"en", "dans", "de", "du", "des", "le", "la", "les", "l", "a", "au", "aux", "departement", "dept",
                   "dep", "dpt", "ile"}
_DEP_ALIASES = {"corse": ("2A", "2B"), "20": ("2A", "2B"), "reunion": ("974",), "guyane": ("973",)}
_ARRONDISSEMENT = re.compile(r"^(paris|marseille|lyon) (\d{1,2})(?: ?(?:er|e|eme|ieme|em))?"
                             r"(?: arrondissement| arr| arrdt)?$")


class CommuneIndex:
    """In-memory index over every commune, keyed several ways for tolerant lookup.

    ``lookup(query)`` reads an answer that *is* a place ("rennes", "st brieuc", "22000",
    "saint denis 93", "paris 15"); ``find_in_text(text)`` looks inside a free-text message, only
    after location cues or at a postcode, so everyday words that are also commune names are not
    taken for places. The matching methods below ``lookup`` are what the free-text finder uses.
    """

    def __init__(
        self,
        communes: Iterable[Commune],
        departements: Optional[dict[str, str]] = None,
        arrondissements: Optional[dict[tuple[str, int], Commune]] = None,
        arrondissement_rows: Iterable[Arrondissement] = (),
    ) -> None:
        self._communes = tuple(sorted(communes, key=lambda c: -c.population))
        self._by_insee = {c.insee: c for c in self._communes}
        self._departements = dict(departements or {})
        self._arrondissements = dict(arrondissements or {})
        self._arr_by_postcode = {}
        for (city, number), arr in self._arrondissements.items():
            for cp in arr.postcodes:
                self._arr_by_postcode.setdefault(cp, arr)
        # The rows themselves, by their own INSEE code and by postcode (the importer's codes: 13211).
        self._arr_rows = {row.insee: row for row in arrondissement_rows}
        self._arr_row_of_postcode: dict[str, Arrondissement] = {}
        for row in self._arr_rows.values():
            for cp in row.postcodes:
                self._arr_row_of_postcode.setdefault(cp, row)

        by_postcode: dict[str, list[Commune]] = defaultdict(list)
        by_key: dict[str, list[Commune]] = defaultdict(list)
        by_compact: dict[str, list[Commune]] = defaultdict(list)
        by_bare: dict[str, list[Commune]] = defaultdict(list)
        by_phonetic: dict[str, list[Commune]] = defaultdict(list)
        key_of: dict[str, str] = {}
        keys = name_keys([c.name for c in self._communes])
        sounds = phonetic_keys(keys)
        articles = ARTICLES
        for c, key, sound in zip(self._communes, keys, sounds):  # population order kept in buckets
            key_of[c.insee] = key
            by_key[key].append(c)
            by_compact[key.replace(" ", "")].append(c)
            head, _, rest = key.partition(" ")
            if rest and head in articles:
                by_bare[rest.replace(" ", "")].append(c)
            by_phonetic[sound].append(c)
            for cp in c.postcodes:
                by_postcode[cp].append(c)
        self._by_postcode, self._by_key, self._by_compact = by_postcode, by_key, by_compact
        self._by_bare, self._by_phonetic, self._key_of = by_bare, by_phonetic, key_of

        # Fuzzy search compares keys of similar length, same first letter first.
        self._keys_by_len: dict[int, list[str]] = defaultdict(list)
        self._keys_by_len_initial: dict[tuple[int, str], list[str]] = defaultdict(list)
        for key in self._by_key:
            self._keys_by_len[len(key)].append(key)
            self._keys_by_len_initial[(len(key), key[0])].append(key)

        self._dep_names: dict[str, tuple[str, ...]] = {}
        for code, name in self._departements.items():
            for variant in {name_key(name), strip_article(name_key(name))}:
                self._dep_names.setdefault(variant, (code,))
        for alias, codes in _DEP_ALIASES.items():
            self._dep_names.setdefault(alias, codes)
        self._dep_codes = {code.lower(): (code,) for code in self._departements}
        self._dep_codes.setdefault("20", ("2A", "2B"))
        self._max_dep_words = max((len(k.split()) for k in self._dep_names), default=1)

    # --- loading -------------------------------------------------------------

    @classmethod
    def load(cls, path: Optional[Path | str] = None) -> "CommuneIndex":
        path = Path(path) if path else DEFAULT_PATH
        communes = read_communes(path)
        departements = read_departements(path.parent / "departements.csv")
        by_insee = {c.insee: c for c in communes}
        rows = read_arrondissements(path.parent / "arrondissements.csv")
        return cls(communes, departements, arrondissements_by_number(rows, by_insee), rows)

    # --- simple accessors ------------------------------------------------------

    def __len__(self) -> int:
        return len(self._communes)

    def __iter__(self):
        return iter(self._communes)

    def by_insee(self, code: str) -> Optional[Commune]:
        return self._by_insee.get(code.strip().upper())

    def by_postcode(self, postcode: str) -> tuple[Commune, ...]:
        """Communes served by a postcode, most populated first."""
        return tuple(self._by_postcode.get(postcode.strip(), ()))

    def departement_name(self, code: str) -> Optional[str]:
        return self._departements.get(code)

    # --- free text ---------------------------------------------------------------

    def find_in_text(self, text: str) -> Optional[LookupResult]:
        """A place named inside a free-text message, or None; the finder is in_text.py."""
        return in_text.find_in_text(self, text)

    # --- lookup of a whole answer ---------------------------------------------

    def lookup(self, query: str, limit: int = 5) -> LookupResult:
        words = key_words(query or "")
        if not words:
            return _NOT_FOUND
        key = " ".join(words)

        arr = self.arrondissement(key)
        if arr:
            return LookupResult(FOUND, (arr,))

        numbers = [w for w in words if POSTCODE.match(w)]
        if numbers:
            return self._lookup_with_postcode(numbers[0], [w for w in words if w != numbers[0]], limit)

        if self.is_departement_not_commune(key):
            return _NOT_FOUND

        matched = self.match_exact(key)
        if matched:
            return self.answer(matched, limit)

        for name_words, deps in self._split_departement(words):
            name = " ".join(name_words)
            hits = self.match_name(name, deps=deps)
            if hits:
                return self.answer(hits, limit)

        fuzzy = self.match_fuzzy(key)
        if fuzzy:
            return self.answer(fuzzy, limit)

        # A known name with a département that does not fit: let the user pick.
        for name_words, _ in self._split_departement(words):
            hits = self.match_exact(" ".join(name_words))
            if hits:
                return self.answer(hits, limit, force_ambiguous=True)
        return _NOT_FOUND

    def _lookup_with_postcode(self, cp: str, rest: list[str], limit: int) -> LookupResult:
        served = self._by_postcode.get(cp, [])
        if not served and cp in self._by_insee:  # someone typed the INSEE code
            served = [self._by_insee[cp]]
        rest = [w for w in rest if w not in ("cp", "code", "postal", "cedex")]
        if served:
            if rest:
                hits = self.match_name(" ".join(rest), within={c.insee for c in served})
                if hits:
                    return self.answer([self.with_arrondissement(c, cp) for c in hits], limit)
            else:
                return self.answer([self.with_arrondissement(c, cp) for c in served], limit)
        if rest:  # postcode mistyped or unknown: use the name, hinted by the département
            dep = self._departement_of_postcode(cp)
            hits = self.match_name(" ".join(rest), deps=dep) or self.match_name(" ".join(rest))
            if hits:
                return self.answer(hits, limit)
        if served:
            return self.answer(served, limit)
        return _NOT_FOUND

    def answer(self, communes: list[Commune], limit: int, force_ambiguous: bool = False) -> LookupResult:
        ordered = sorted(communes, key=lambda c: -c.population)
        if not force_ambiguous and (len(ordered) == 1 or _overwhelming(ordered)):
            return LookupResult(FOUND, (ordered[0],))
        return LookupResult(AMBIGUOUS, tuple(ordered[: max(limit, 1)]))

    # --- name matching ---------------------------------------------------------

    def _filter(
        self, communes: Iterable[Commune], deps: Optional[Collection[str]] = None,
        within: Optional[Collection[str]] = None,
    ) -> list[Commune]:
        out = communes
        if deps:
            out = [c for c in out if c.departement in deps]
        if within is not None:
            out = [c for c in out if c.insee in within]
        return list(out)

    def same_name(self, key: str) -> list[Commune]:
        """Exact name, spacing aside; articles count, so "la rue" is not Rue."""
        return list(self._by_key.get(key, ())) or list(self._by_compact.get(compact(key), ()))

    def match_exact(
        self, key: str, deps: Optional[Collection[str]] = None, within: Optional[Collection[str]] = None
    ) -> list[Commune]:
        """Exact name, then spacing/article-insensitive, then same sound."""
        spaceless = compact(key)
        for table, probe in (
            (self._by_key, key),
            (self._by_compact, spaceless),
            (self._by_bare, compact(strip_article(key))),
            (self._by_compact, compact(strip_article(key))),
        ):
            hits = self._filter(table.get(probe, ()), deps, within)
            if hits:
                return hits
        if len(spaceless) >= 4:
            return self.match_sound(key, deps, within)
        return []

    def match_sound(
        self, key: str, deps: Optional[Collection[str]] = None, within: Optional[Collection[str]] = None
    ) -> list[Commune]:
        """Names that sound the same ("bordo", "bordeaux"); a much bigger town wins over the others."""
        hits = self._filter(self._by_phonetic.get(phonetic_key(key), ()), deps, within)
        return self._dominant(hits) if hits else []

    def match_name(
        self, key: str, deps: Optional[Collection[str]] = None, within: Optional[Collection[str]] = None,
        fuzzy: bool = True,
    ) -> list[Commune]:
        if not key:
            return []
        hits = self.match_exact(key, deps, within)
        if hits or not fuzzy:
            return hits
        return self.match_fuzzy(key, deps, within)

    def match_fuzzy(
        self, key: str, deps: Optional[Collection[str]] = None, within: Optional[Collection[str]] = None,
        max_typos: Optional[int] = None, same_initial: bool = False,
    ) -> list[Commune]:
        limit = typo_budget(key) if max_typos is None else max_typos
        if limit <= 0:
            return []
        n = len(key)
        lengths = range(n - limit, n + limit + 1)
        # Typos rarely hit the first letter: try those keys first, then everything.
        passes = [[self._keys_by_len_initial.get((length, key[0])) for length in lengths]]
        if not same_initial:
            passes.append([self._keys_by_len.get(length) for length in lengths])
        for buckets in passes:
            scored: list[tuple[int, Commune]] = []
            for choices in buckets:
                if not choices:
                    continue
                for choice, dist, _ in process.extract(
                    key, choices, scorer=Levenshtein.distance, score_cutoff=limit, limit=None
                ):
                    scored.extend((dist, c) for c in self._filter(self._by_key[choice], deps, within))
            if scored:
                best = min(d for d, _ in scored)
                return self._dominant([c for d, c in scored if d == best])
        return []

    def _dominant(self, hits: list[Commune]) -> list[Commune]:
        """Among different names equally close to the query, a much bigger town wins.

        Homonyms (same name) stay together: only the user can choose between them.
        """
        groups: dict[str, list[Commune]] = defaultdict(list)
        for c in hits:
            groups[self._key_of[c.insee]].append(c)
        if len(groups) == 1:
            return hits
        ranked = sorted(groups.values(), key=lambda g: -max(c.population for c in g))
        top, second = ranked[0], ranked[1]
        if max(c.population for c in top) >= 5 * max(c.population for c in second):
            return top
        return sorted(hits, key=lambda c: -c.population)

    # --- départements, arrondissements -----------------------------------------

    def _split_departement(self, words: list[str]) -> list[tuple[list[str], tuple[str, ...]]]:
        """Ways to read the query as <name> <département> or <département> <name>."""
        out = []
        for size in range(min(self._max_dep_words, len(words) - 1), 0, -1):
            for dep_words, name_words in ((words[-size:], words[:-size]), (words[:size], words[size:])):
                deps = self.parse_departement(dep_words)
                if not deps:
                    continue
                name_words = _trim(name_words, _DEP_CONNECTORS)
                if name_words:
                    out.append((name_words, deps))
        return out

    def parse_departement(self, words: list[str]) -> tuple[str, ...]:
        words = _trim(words, _DEP_CONNECTORS)
        if not words:
            return ()
        if len(words) == 1 and words[0] in self._dep_codes:
            return self._dep_codes[words[0]]
        key = " ".join(words)
        return self._dep_names.get(key) or self._dep_names.get(strip_article(key), ())

    def names_departement_only(self, key: str) -> bool:
        """"seine saint denis": a département's name that no commune bears."""
        return key in self._dep_names and not self._by_key.get(key)

    def is_departement_not_commune(self, key: str) -> bool:
        """"creuse", "la reunion": a département named, not its small namesake commune."""
        if key not in self._dep_names and strip_article(key) not in self._dep_names:
            return False
        return all(c.population < DEP_NAMESAKE_MIN for c in self._by_key.get(key, ()))

    def _departement_of_postcode(self, cp: str) -> tuple[str, ...]:
        if cp.startswith(("97", "98")):
            return (cp[:3],)
        if cp.startswith("20"):
            return ("2A", "2B")
        return (cp[:2],)

    def arrondissement(self, key: str) -> Optional[Commune]:
        m = _ARRONDISSEMENT.match(key)
        if not m:
            return None
        return self._arrondissements.get((m.group(1), int(m.group(2))))

    def arrondissement_by_insee(self, insee: str) -> Optional[Arrondissement]:
        return self._arr_rows.get(insee)

    def arrondissement_of_postcode(self, postcode: str) -> Optional[Arrondissement]:
        return self._arr_row_of_postcode.get(postcode)

    def with_arrondissement(self, commune: Commune, cp: str) -> Commune:
        arr = self._arr_by_postcode.get(cp)
        return arr if arr is not None and arr.insee == commune.insee else commune


def _overwhelming(ordered: list[Commune]) -> bool:
    """A city among hamlets of the same name ("La Rochelle" 17 vs 70): nobody means the hamlet.

    Comparable homonyms (Saint-Denis 93 / 974) stay ambiguous.
    """
    top, second = ordered[0].population, ordered[1].population
    return top >= BIG_CITY and top >= HOMONYM_RATIO * max(second, 1)


def _trim(words: list[str], drop: set[str]) -> list[str]:
    start, end = 0, len(words)
    while start < end and words[start] in drop:
        start += 1
    while end > start and words[end - 1] in drop:
        end -= 1
    return words[start:end]


@functools.lru_cache(maxsize=1)
def default_index() -> CommuneIndex:
    """The packaged reference, loaded once on first use."""
    return CommuneIndex.load()
