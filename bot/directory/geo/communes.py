"""Commune reference for all of France (metropole, DOM, COM) and a typo-tolerant lookup.

Data: ``bot/directory/geo/data/communes.csv.gz`` built by ``scripts/build_communes.py`` (see
``bot/directory/geo/data/SOURCES.md``). Nothing is read at import time: ``default_index()``
loads and caches the packaged file on first use.

Two entry points:

* ``CommuneIndex.lookup(query)`` for an answer that *is* a place ("rennes",
  "st brieuc", "22000", "saint denis 93", "paris 15").
* ``CommuneIndex.find_in_text(text)`` for a free-text message; it only looks
  after location cues ("j'habite", "a", "sur", "pres de"...) or at a postcode, so
  everyday words that happen to be commune names are not taken for places.
"""

from __future__ import annotations

import csv
import functools
import gzip
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable, Optional

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot.core.text import normalize

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_PATH = DATA_DIR / "communes.csv.gz"

FOUND = "found"
AMBIGUOUS = "ambiguous"
NOT_FOUND = "not_found"


@dataclass(frozen=True)
class Commune:
    insee: str
    name: str
    postcodes: tuple[str, ...]
    latitude: float
    longitude: float
    departement: str
    population: int


@dataclass(frozen=True)
class LookupResult:
    status: str  # "found" | "ambiguous" | "not_found"
    candidates: tuple[Commune, ...] = ()

    @property
    def commune(self) -> Optional[Commune]:
        return self.candidates[0] if self.status == FOUND and self.candidates else None

    @property
    def found(self) -> bool:
        return self.status == FOUND


_NOT_FOUND = LookupResult(NOT_FOUND, ())
# A homonym this big and this much bigger than the next one is taken without asking.
BIG_CITY = 20_000
HOMONYM_RATIO = 50
# A commune named like a département is meant only if it is a real town (Mayenne, Vienne).
DEP_NAMESAKE_MIN = 5_000
# One-word names after a bare preposition must be at least this big ("le fils de vincent").
WEAK_CUE_MIN_POPULATION = 2_000
# Bounds the work on a long message.
MAX_CUES = 40

# --- text keys ---------------------------------------------------------------

_ARTICLES = ("le", "la", "les", "l")
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}


def _words(text: str) -> list[str]:
    """Normalised words; apostrophes split words ("l'isle" -> "l isle")."""
    words = normalize(text).replace("'", " ").split()
    return [_ABBREVIATIONS.get(w, w) for w in words]


def _key(text: str) -> str:
    return " ".join(_words(text))


_HAS_ABBREVIATION = re.compile(r"\b(?:st|ste|sts|stes)\b")
_SEPARATOR = " zq9qz "  # survives normalize() and is no word of any name


_COMBINING = re.compile("[\u0300-\u036f]")
_NOT_KEY_CHAR = re.compile(r"[^a-z0-9 ]+")


def _keys_many(names: list[str]) -> list[str]:
    """Same as ``[_key(n) for n in names]`` in one pass (load time matters).

    Mirrors bot.core.text.normalize with C-level regexes; a test checks both agree on every name.
    """
    bulk = unicodedata.normalize("NFKD", _SEPARATOR.join(names))
    bulk = _COMBINING.sub("", bulk).lower().replace("œ", "oe").replace("æ", "ae")
    bulk = _NOT_KEY_CHAR.sub(" ", bulk)
    parts = bulk.split(_SEPARATOR.strip())
    if len(parts) != len(names):  # cannot happen with real names; stay correct anyway
        return [_key(n) for n in names]
    if not _HAS_ABBREVIATION.search(bulk):
        return [" ".join(part.split()) for part in parts]
    return [" ".join(_ABBREVIATIONS.get(w, w) for w in part.split()) for part in parts]


def _strip_article(key: str) -> str:
    head, _, rest = key.partition(" ")
    return rest if head in _ARTICLES and rest else key


def _compact(key: str) -> str:
    return key.replace(" ", "")


_PHONETIC_RULES = [
    (re.compile(r"eaux?|aux?"), "o"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"qu|ck|c(?=[aou])|k"), "k"),
    (re.compile(r"c(?=[eiy])"), "s"),
    (re.compile(r"(?<=[aeiou])s(?=[aeiou])"), "z"),
    (re.compile(r"y"), "i"),
    (re.compile(r"[ae]i|ei"), "e"),
    (re.compile(r"(?<![cs])h"), ""),
    (re.compile(r"ill?e?"), "il"),
    (re.compile(r"([a-z])\1+"), lambda m: m.group(1)),  # a callable is faster than a template
    # Silent endings, keeping at least one letter of the word.
    (re.compile(r"(?<=[a-z])(?:[sxtdz]|e[sz]?)(?![a-z])"), ""),
    (re.compile(r" "), ""),
]


def _phonetic_many(keys: list[str]) -> list[str]:
    """Rough French sound keys, so "bordo" meets "bordeaux" and "marseil" meets "marseille"."""
    bulk = "\n".join(keys)
    for pattern, repl in _PHONETIC_RULES:
        bulk = pattern.sub(repl, bulk)
    return bulk.split("\n")


def _phonetic(key: str) -> str:
    return _phonetic_many([key])[0]


def _max_typos(key: str) -> int:
    n = len(_compact(key))
    if n < 4:
        return 0
    if n < 6:
        return 1
    if n < 10:
        return 2
    return 3


# --- free-text cues ----------------------------------------------------------

# Cues after which a place name is expected, by strength:
# 3 = "j'habite", "ma commune": typos tolerated; 2 = "je suis a": sound-alike spelling
# tolerated; 1 = a bare preposition ("a", "de", "sur"): exact names only.
_LOCATIVES = ("a", "au", "aux", "sur", "vers", "pres")
_CUES: dict[tuple[str, ...], int] = {
    **{(w,): 3 for w in ("habite", "habites", "habitons", "habitez", "jhabite", "jabite", "abite")},
    **{(w,): 3 for w in ("commune", "ville", "village", "domicilie", "domiciliee", "reside", "localite")},
    **{(verb, loc): 2 for verb in ("suis", "jsuis", "vis", "vit", "vivons", "sommes") for loc in _LOCATIVES},
    **{cue: 1 for cue in (("a",), ("au",), ("aux",), ("sur",), ("vers",), ("pres", "de"), ("de",), ("du",))},
}
# Words that may sit between a cue and the name ("j'habite a", "ma ville c'est").
_CUE_FILLERS = {"a", "au", "aux", "sur", "vers", "pres", "de", "du", "en", "dans", "c", "est", "cest",
                "actuellement", "maintenant"}
_AU = {"au": "le", "aux": "les", "du": "le"}
# Everyday words (alone or after an article) that are also commune names.
_COMMON_WORDS = frozenset(
    """
    a y eu bu us ri ris sus son mer vers viens vue ville villes place plan plans pont ponts port mont monts
    long vert bois four fours bus cours contre moyen simple parent confort ecole chemin maire marie
    mars avril change charge force grand faux doux vieux riche maisons routes route job boulot lent luxe prince
    pere mere fille hommes don courant cesse devise piano avion degre taule jury signes ligne lance vire
    bar pis lies priez allons irai serez saurais sache espere rions soyons aucun lue vira passa monte pleure
    mire erre jure loue louer publier lutter trimer cesseras rue tour salle cote table chambre machine marche
    parc pas passage bourg temple val montagne riviere vallee plaine terrasse loge syndicat quartier halles
    places hopital union saint fin fins rang centre centres don porte portes poste gare caf mairie
    maison urgence demain soir matin midi nuit jour jours pied pieds main mains partir plus peu cause
    nouveau nouvelle ordi internet telephone net oui non ok merci bonjour bonne bonnes chatte creances
    plat plats court sec bout decouvert heure retraite fac bord bords frais
    """.split()
)
_NUMBER_UNITS = {"euros", "euro", "eur", "e", "balles", "dollars", "km", "m", "kg", "h", "min", "fois", "ans", "mois",
                 "personnes"}
_NUMBER_LABELS = {"numero", "num", "n", "no", "ref", "reference", "dossier", "allocataire", "identifiant", "id", "code"}

# --- département hints -------------------------------------------------------

_DEP_CONNECTORS = {"en", "dans", "de", "du", "des", "le", "la", "les", "l", "a", "au", "aux", "departement", "dept",
                   "dep", "dpt", "ile"}
_DEP_ALIASES = {"corse": ("2A", "2B"), "20": ("2A", "2B"), "reunion": ("974",), "guyane": ("973",)}
_ARRONDISSEMENT = re.compile(r"^(paris|marseille|lyon) (\d{1,2})(?: ?(?:er|e|eme|ieme|em))?"
                             r"(?: arrondissement| arr| arrdt)?$")
_ARR_PARENT = {"paris": "75056", "marseille": "13055", "lyon": "69123"}
_POSTCODE = re.compile(r"^\d{5}$")


class CommuneIndex:
    """In-memory index over every commune, keyed several ways for tolerant lookup."""

    def __init__(
        self,
        communes: Iterable[Commune],
        departements: Optional[dict[str, str]] = None,
        arrondissements: Optional[dict[tuple[str, int], Commune]] = None,
    ) -> None:
        self._communes = tuple(sorted(communes, key=lambda c: -c.population))
        self._by_insee = {c.insee: c for c in self._communes}
        self._departements = dict(departements or {})
        self._arrondissements = dict(arrondissements or {})
        self._arr_by_postcode = {}
        for (city, number), arr in self._arrondissements.items():
            for cp in arr.postcodes:
                self._arr_by_postcode.setdefault(cp, arr)

        by_postcode: dict[str, list[Commune]] = defaultdict(list)
        by_key: dict[str, list[Commune]] = defaultdict(list)
        by_compact: dict[str, list[Commune]] = defaultdict(list)
        by_bare: dict[str, list[Commune]] = defaultdict(list)
        by_phonetic: dict[str, list[Commune]] = defaultdict(list)
        key_of: dict[str, str] = {}
        keys = _keys_many([c.name for c in self._communes])
        sounds = _phonetic_many(keys)
        articles = _ARTICLES
        for c, key, sound in zip(self._communes, keys, sounds):  # population order kept in buckets
            key_of[c.insee] = key
            by_key[key].append(c)
            compact = key.replace(" ", "")
            by_compact[compact].append(c)
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
            for variant in {_key(name), _strip_article(_key(name))}:
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
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            col = {name: i for i, name in enumerate(next(reader))}
            i_insee, i_name, i_cps = col["insee"], col["name"], col["postcodes"]
            i_lat, i_lon, i_dep, i_pop = col["lat"], col["lon"], col["departement"], col["population"]
            communes = [
                Commune(
                    row[i_insee],
                    row[i_name],
                    tuple(row[i_cps].split()),
                    float(row[i_lat]),
                    float(row[i_lon]),
                    row[i_dep],
                    int(row[i_pop] or 0),
                )
                for row in reader
            ]
        departements = _read_departements(path.parent / "departements.csv")
        by_insee = {c.insee: c for c in communes}
        arrondissements = _read_arrondissements(path.parent / "arrondissements.csv", by_insee)
        return cls(communes, departements, arrondissements)

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

    # --- lookup of a whole answer ---------------------------------------------

    def lookup(self, query: str, limit: int = 5) -> LookupResult:
        words = _words(query or "")
        if not words:
            return _NOT_FOUND
        key = " ".join(words)

        arr = self._arrondissement(key)
        if arr:
            return LookupResult(FOUND, (arr,))

        numbers = [w for w in words if _POSTCODE.match(w)]
        if numbers:
            return self._lookup_with_postcode(numbers[0], [w for w in words if w != numbers[0]], limit)

        if self._is_departement_not_commune(key):
            return _NOT_FOUND

        matched = self._match_exact(key)
        if matched:
            return self._result(matched, limit)

        for name_words, deps in self._split_departement(words):
            name = " ".join(name_words)
            hits = self._match_name(name, deps=deps)
            if hits:
                return self._result(hits, limit)

        fuzzy = self._match_fuzzy(key)
        if fuzzy:
            return self._result(fuzzy, limit)

        # A known name with a département that does not fit: let the user pick.
        for name_words, _ in self._split_departement(words):
            hits = self._match_exact(" ".join(name_words))
            if hits:
                return self._result(hits, limit, force_ambiguous=True)
        return _NOT_FOUND

    def _lookup_with_postcode(self, cp: str, rest: list[str], limit: int) -> LookupResult:
        served = self._by_postcode.get(cp, [])
        if not served and cp in self._by_insee:  # someone typed the INSEE code
            served = [self._by_insee[cp]]
        rest = [w for w in rest if w not in ("cp", "code", "postal", "cedex")]
        if served:
            if rest:
                hits = self._match_name(" ".join(rest), within={c.insee for c in served})
                if hits:
                    return self._result([self._with_arrondissement(c, cp) for c in hits], limit)
            else:
                return self._result([self._with_arrondissement(c, cp) for c in served], limit)
        if rest:  # postcode mistyped or unknown: use the name, hinted by the département
            dep = self._departement_of_postcode(cp)
            hits = self._match_name(" ".join(rest), deps=dep) or self._match_name(" ".join(rest))
            if hits:
                return self._result(hits, limit)
        if served:
            return self._result(served, limit)
        return _NOT_FOUND

    def _result(self, communes: list[Commune], limit: int, force_ambiguous: bool = False) -> LookupResult:
        ordered = sorted(communes, key=lambda c: -c.population)
        if not force_ambiguous and (len(ordered) == 1 or _overwhelming(ordered)):
            return LookupResult(FOUND, (ordered[0],))
        return LookupResult(AMBIGUOUS, tuple(ordered[: max(limit, 1)]))

    # --- name matching ---------------------------------------------------------

    def _filter(self, communes, deps=None, within=None) -> list[Commune]:
        out = communes
        if deps:
            out = [c for c in out if c.departement in deps]
        if within is not None:
            out = [c for c in out if c.insee in within]
        return list(out)

    def _match_exact(self, key: str, deps=None, within=None) -> list[Commune]:
        """Exact name, then spacing/article-insensitive, then same sound."""
        compact = _compact(key)
        for table, probe in (
            (self._by_key, key),
            (self._by_compact, compact),
            (self._by_bare, _compact(_strip_article(key))),
            (self._by_compact, _compact(_strip_article(key))),
        ):
            hits = self._filter(table.get(probe, ()), deps, within)
            if hits:
                return hits
        if len(compact) >= 4:
            hits = self._filter(self._by_phonetic.get(_phonetic(key), ()), deps, within)
            if hits:
                return self._dominant(hits)
        return []

    def _match_name(self, key: str, deps=None, within=None, fuzzy: bool = True) -> list[Commune]:
        if not key:
            return []
        hits = self._match_exact(key, deps, within)
        if hits or not fuzzy:
            return hits
        return self._match_fuzzy(key, deps, within)

    def _match_fuzzy(
        self, key: str, deps=None, within=None, max_typos: Optional[int] = None, same_initial: bool = False
    ) -> list[Commune]:
        limit = _max_typos(key) if max_typos is None else max_typos
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
                deps = self._parse_departement(dep_words)
                if not deps:
                    continue
                name_words = _trim(name_words, _DEP_CONNECTORS)
                if name_words:
                    out.append((name_words, deps))
        return out

    def _parse_departement(self, words: list[str]) -> tuple[str, ...]:
        words = _trim(words, _DEP_CONNECTORS)
        if not words:
            return ()
        if len(words) == 1 and words[0] in self._dep_codes:
            return self._dep_codes[words[0]]
        key = " ".join(words)
        return self._dep_names.get(key) or self._dep_names.get(_strip_article(key), ())

    def _is_departement_not_commune(self, key: str) -> bool:
        """"creuse", "la reunion": a département named, not its small namesake commune."""
        if key not in self._dep_names and _strip_article(key) not in self._dep_names:
            return False
        return all(c.population < DEP_NAMESAKE_MIN for c in self._by_key.get(key, ()))

    def _departement_of_postcode(self, cp: str) -> tuple[str, ...]:
        if cp.startswith(("97", "98")):
            return (cp[:3],)
        if cp.startswith("20"):
            return ("2A", "2B")
        return (cp[:2],)

    def _arrondissement(self, key: str) -> Optional[Commune]:
        m = _ARRONDISSEMENT.match(key)
        if not m:
            return None
        return self._arrondissements.get((m.group(1), int(m.group(2))))

    def _with_arrondissement(self, commune: Commune, cp: str) -> Commune:
        arr = self._arr_by_postcode.get(cp)
        return arr if arr is not None and arr.insee == commune.insee else commune

    # --- free text --------------------------------------------------------------

    def find_in_text(self, text: str) -> Optional[LookupResult]:
        words = _words(text or "")
        if not words:
            return None

        # A short message that is only a place name.
        if len(words) <= 4:
            key = " ".join(words)
            if _strip_article(key) not in _COMMON_WORDS and not self._is_departement_not_commune(key):
                hits = self._arrondissement(key)
                if hits:
                    return LookupResult(FOUND, (hits,))
                hits = self._match_exact(key)
                if hits:
                    return self._result(hits, 5)

        found = self._postcode_in_text(words)
        if found:
            return found

        best: Optional[tuple[int, LookupResult]] = None  # (strength, result)
        cache: dict[tuple[str, int], list[Commune]] = {}
        cues = sorted(_cue_positions(words), key=lambda cue: -cue[1])  # stable: strongest, then first
        for start, strength in cues[:MAX_CUES]:
            if best is not None and strength <= best[0]:
                continue
            hit = self._name_after(words, start, strength, cache)
            if hit:
                best = (strength, hit)
                if strength == 3:
                    break
        return best[1] if best else None

    def _postcode_in_text(self, words: list[str]) -> Optional[LookupResult]:
        for i, w in enumerate(words):
            if not _POSTCODE.match(w):
                continue
            if i + 1 < len(words) and words[i + 1] in _NUMBER_UNITS:
                continue
            if i > 0 and words[i - 1] in _NUMBER_LABELS and not (i > 1 and words[i - 2] == "code"):
                continue
            if w not in self._by_postcode:
                continue
            served = self._by_postcode[w]
            # A name right after (or before) the postcode picks among its communes.
            for span in range(min(5, len(words) - i - 1), 0, -1):
                hits = self._match_name(" ".join(words[i + 1 : i + 1 + span]), within={c.insee for c in served},
                                        fuzzy=False)
                if hits:
                    return self._result([self._with_arrondissement(c, w) for c in hits], 5)
            return self._result([self._with_arrondissement(c, w) for c in served], 5)
        return None

    def _name_after(
        self, words: list[str], start: int, strength: int, cache: dict[tuple[str, int], list[Commune]]
    ) -> Optional[LookupResult]:
        implied_article = _AU.get(words[start - 1])
        # The name may come after a few fillers ("j'habite a cote de"); articles belong to it.
        i = start
        while strength > 1 and i < len(words) - 1 and words[i] in _CUE_FILLERS and i - start < 3:
            implied_article = _AU.get(words[i], implied_article)
            i += 1
        if words[i] in _CUE_FILLERS:
            return None
        for span in range(min(6, len(words) - i), 0, -1):
            name_words = words[i : i + span]
            if any(w.isdigit() for w in name_words):
                continue
            key = " ".join(name_words)
            if key in self._dep_names and not self._by_key.get(key):
                return None  # "j'habite en Seine-Saint-Denis": a département, not a commune
            bare = _strip_article(key)
            if bare in _COMMON_WORDS or key in _COMMON_WORDS or len(_compact(bare)) < 3:
                continue
            if self._is_departement_not_commune(key):
                continue
            probes = [f"{implied_article} {key}", key] if implied_article else [key]
            for probe in probes:
                if (probe, strength) not in cache:
                    cache[(probe, strength)] = self._match_text_name(probe, strength)
                hits = cache[(probe, strength)]
                if hits and strength == 1 and " " not in probe:
                    # After a bare "a"/"de", a one-word hamlet is more likely a common word or a name.
                    hits = [c for c in hits if c.population >= WEAK_CUE_MIN_POPULATION]
                if hits:
                    return self._refine_from_context(hits, words[i + span : i + span + 4])
        return None

    def _match_text_name(self, key: str, strength: int) -> list[Commune]:
        # Exact (spacing/accents aside); articles must be as written, so "la rue" is not Rue.
        hits = list(self._by_key.get(key, ())) or list(self._by_compact.get(_compact(key), ()))
        if hits or strength < 2 or len(_compact(key)) < (5 if strength >= 3 else 6) or key.count(" ") > 3:
            return hits
        hits = self._filter(self._by_phonetic.get(_phonetic(key), ()))
        if hits:
            return self._dominant(hits)
        if strength >= 3 and len(_compact(key)) >= 6 and key.count(" ") < 3:
            return self._match_fuzzy(key, max_typos=1 if len(key) < 10 else 2, same_initial=True)
        return []

    def _refine_from_context(self, hits: list[Commune], following: list[str]) -> LookupResult:
        if len(hits) == 1 and hits[0].insee in _ARR_PARENT.values() and following:
            city = next(k for k, v in _ARR_PARENT.items() if v == hits[0].insee)
            for size in (2, 1):
                arr = self._arrondissement(" ".join([city] + following[:size]))
                if arr:
                    return LookupResult(FOUND, (arr,))
        if len(hits) > 1 and following:
            for size in range(min(4, len(following)), 0, -1):
                deps = self._parse_departement(following[:size])
                narrowed = [c for c in hits if c.departement in deps] if deps else []
                if narrowed:
                    return self._result(narrowed, 5)
        return self._result(hits, 5)


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


def _cue_positions(words: list[str]) -> list[tuple[int, int]]:
    """(index just after the cue, strength), longest cue first at each position."""
    out = []
    for i in range(len(words)):
        for size in (2, 1):
            cue = tuple(words[i : i + size])
            if len(cue) == size and cue in _CUES and i + size < len(words):
                out.append((i + size, _CUES[cue]))
                break
    return out


def _read_departements(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    with open(path, encoding="utf-8", newline="") as fh:
        return {row["code"]: row["name"] for row in csv.DictReader(fh)}


def _read_arrondissements(path: Path, by_insee: dict[str, Commune]) -> dict[tuple[str, int], Commune]:
    """Map ("paris", 15) to Paris with the 15th arrondissement's postcodes and position."""
    if not path.exists():
        return {}
    out = {}
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            parent = by_insee.get(row["commune"])
            m = re.match(r"^\D*(\d+)", row["name"])
            if parent is None or not m:
                continue
            city = _words(parent.name)[0]
            out[(city, int(m.group(1)))] = replace(
                parent,
                postcodes=tuple(row["postcodes"].split()),
                latitude=float(row["lat"]),
                longitude=float(row["lon"]),
            )
    return out


@functools.lru_cache(maxsize=1)
def default_index() -> CommuneIndex:
    """The packaged reference, loaded once on first use."""
    return CommuneIndex.load()
