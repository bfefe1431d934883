"""Finding the commune a free-text message names, after a location cue or at a postcode."""

from __future__ import annotations

from typing import Collection, Optional, Protocol

from bot.directory.geo.names import compact, key_words, strip_article
from bot.directory.geo.reference import FOUND, POSTCODE, Commune, LookupResult

# One-word names after a bare preposition must be at least this big ("le fils de vincent").
WEAK_CUE_MIN_POPULATION = 2_000
# Bounds the work on a long message.
MAX_CUES = 40

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
# Cities with arrondissements, by INSEE code: a number after the name ("paris 15") picks one.
_ARR_PARENT = {"paris": "75056", "marseille": "13055", "lyon": "69123"}


class Index(Protocol):
    """What the finder uses of a CommuneIndex (communes.py imports this module, so it cannot import the class)."""

    def by_postcode(self, postcode: str) -> tuple[Commune, ...]: ...

    def same_name(self, key: str) -> list[Commune]: ...

    def match_exact(self, key: str, deps: Optional[Collection[str]] = None,
                    within: Optional[Collection[str]] = None) -> list[Commune]: ...

    def match_name(self, key: str, deps: Optional[Collection[str]] = None, within: Optional[Collection[str]] = None,
                   fuzzy: bool = True) -> list[Commune]: ...

    def match_sound(self, key: str, deps: Optional[Collection[str]] = None,
                    within: Optional[Collection[str]] = None) -> list[Commune]: ...

    def match_fuzzy(self, key: str, deps: Optional[Collection[str]] = None, within: Optional[Collection[str]] = None,
                    max_typos: Optional[int] = None, same_initial: bool = False) -> list[Commune]: ...

    def answer(self, communes: list[Commune], limit: int, force_ambiguous: bool = False) -> LookupResult: ...

    def names_departement_only(self, key: str) -> bool: ...

    def is_departement_not_commune(self, key: str) -> bool: ...

    def parse_departement(self, words: list[str]) -> tuple[str, ...]: ...

    def arrondissement(self, key: str) -> Optional[Commune]: ...

    def with_arrondissement(self, commune: Commune, cp: str) -> Commune: ...


def find_in_text(index: Index, text: str) -> Optional[LookupResult]:
    words = key_words(text or "")
    if not words:
        return None

    # A short message that is only a place name.
    if len(words) <= 4:
        key = " ".join(words)
        if strip_article(key) not in _COMMON_WORDS and not index.is_departement_not_commune(key):
            hits = index.arrondissement(key)
            if hits:
                return LookupResult(FOUND, (hits,))
            hits = index.match_exact(key)
            if hits:
                return index.answer(hits, 5)

    found = _postcode_in_text(index, words)
    if found:
        return found

    best: Optional[tuple[int, LookupResult]] = None  # (strength, result)
    cache: dict[tuple[str, int], list[Commune]] = {}
    cues = sorted(_cue_positions(words), key=lambda cue: -cue[1])  # stable: strongest, then first
    for start, strength in cues[:MAX_CUES]:
        if best is not None and strength <= best[0]:
            continue
        hit = _name_after(index, words, start, strength, cache)
        if hit:
            best = (strength, hit)
            if strength == 3:
                break
    return best[1] if best else None


def _postcode_in_text(index: Index, words: list[str]) -> Optional[LookupResult]:
    for i, w in enumerate(words):
        if not POSTCODE.match(w):
            continue
        if i + 1 < len(words) and words[i + 1] in _NUMBER_UNITS:
            continue
        if i > 0 and words[i - 1] in _NUMBER_LABELS and not (i > 1 and words[i - 2] == "code"):
            continue
        served = index.by_postcode(w)
        if not served:
            continue
        # A name right after (or before) the postcode picks among its communes.
        for span in range(min(5, len(words) - i - 1), 0, -1):
            hits = index.match_name(" ".join(words[i + 1 : i + 1 + span]), within={c.insee for c in served},
                                    fuzzy=False)
            if hits:
                return index.answer([index.with_arrondissement(c, w) for c in hits], 5)
        return index.answer([index.with_arrondissement(c, w) for c in served], 5)
    return None


def _name_after(
    index: Index, words: list[str], start: int, strength: int, cache: dict[tuple[str, int], list[Commune]]
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
        if index.names_departement_only(key):
            return None  # "j'habite en Seine-Saint-Denis": a département, not a commune
        bare = strip_article(key)
        if bare in _COMMON_WORDS or key in _COMMON_WORDS or len(compact(bare)) < 3:
            continue
        if index.is_departement_not_commune(key):
            continue
        probes = [f"{implied_article} {key}", key] if implied_article else [key]
        for probe in probes:
            if (probe, strength) not in cache:
                cache[(probe, strength)] = _match_text_name(index, probe, strength)
            hits = cache[(probe, strength)]
            if hits and strength == 1 and " " not in probe:
                # After a bare "a"/"de", a one-word hamlet is more likely a common word or a name.
                hits = [c for c in hits if c.population >= WEAK_CUE_MIN_POPULATION]
            if hits:
                return _refine_from_context(index, hits, words[i + span : i + span + 4])
    return None


def _match_text_name(index: Index, key: str, strength: int) -> list[Commune]:
    # Exact (spacing/accents aside); articles must be as written, so "la rue" is not Rue.
    hits = index.same_name(key)
    if hits or strength < 2 or len(compact(key)) < (5 if strength >= 3 else 6) or key.count(" ") > 3:
        return hits
    hits = index.match_sound(key)
    if hits:
        return hits
    if strength >= 3 and len(compact(key)) >= 6 and key.count(" ") < 3:
        return index.match_fuzzy(key, max_typos=1 if len(key) < 10 else 2, same_initial=True)
    return []


def _refine_from_context(index: Index, hits: list[Commune], following: list[str]) -> LookupResult:
    if len(hits) == 1 and hits[0].insee in _ARR_PARENT.values() and following:
        city = next(k for k, v in _ARR_PARENT.items() if v == hits[0].insee)
        for size in (2, 1):
            arr = index.arrondissement(" ".join([city] + following[:size]))
            if arr:
                return LookupResult(FOUND, (arr,))
    if len(hits) > 1 and following:
        for size in range(min(4, len(following)), 0, -1):
            deps = index.parse_departement(following[:size])
            narrowed = [c for c in hits if c.departement in deps] if deps else []
            if narrowed:
                return index.answer(narrowed, 5)
    return index.answer(hits, 5)


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
