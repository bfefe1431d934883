"""Every French text the directory import shows an operator or a coordinator, kept together.

str.format templates; the modules of the import (sources, values, positions,
report, importer) only fill them in.
"""

from __future__ import annotations

# --- The file as a whole: nothing is written when one of these is raised -----------------------
MSG_FILE_EMPTY = "Le fichier est vide."
MSG_FILE_UNREADABLE = "Impossible de lire le fichier « {path} » : {reason}."
MSG_FILE_BINARY = "Ce fichier n'est pas un fichier texte CSV ou JSON (contenu binaire)."
MSG_FILE_ENCODING = "Le fichier n'est pas lisible en UTF-8 (ligne {line}). Enregistrez-le en CSV UTF-8."
MSG_FILE_NOT_STANDARD = (
    "Ce fichier ne suit pas le standard des lieux de médiation numérique : "
    "colonne(s) obligatoire(s) absente(s) de l'en-tête : {missing}."
)
MSG_FILE_CSV = "Fichier CSV illisible ligne {line} : {error}"
# What a header needs (without --strict): a name, and something to place the place with.
FILE_NEEDS_NAME = "nom"
FILE_NEEDS_POSITION = "latitude et longitude, ou commune, code_postal ou code_insee"
MSG_FILE_JSON = ("Fichier JSON mal formé ligne {line}, colonne {column} : "
                 "vérifiez les virgules, guillemets et accolades.")
MSG_FILE_JSON_NO_PLACES = (
    "Ce fichier JSON ne contient pas de liste de lieux : un tableau d'objets est attendu, seul ou sous une clé "
    "(par exemple « data », « lieux » ou « features »)."
)

# --- How the file was read (first lines of the summary) ---------------------------------------
SOURCE_CSV = "Fichier lu : CSV (séparateur « {delimiter} »){encoding}."
SOURCE_JSON = "Fichier lu : JSON{encoding}."
SOURCE_ENCODING = ", encodage {name}"
DELIMITER_NAMES = {"\t": "tabulation"}
ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 avec BOM",
    "utf-16": "UTF-16",
    "cp1252": "Windows-1252 (Latin-1)",
    "latin-1": "ISO-8859-1 (Latin-1)",
}
ENCODING_NOTICE = (
    "Attention : le fichier n'est pas en UTF-8 ; encodage détecté : {encoding}. Les accents ont été lus dans "
    "cet encodage : vérifiez quelques lieux importés, ou enregistrez le fichier en « CSV UTF-8 » et importez-le "
    "à nouveau."
)

# --- One place: problems with a field ---------------------------------------------------------
MSG_REQUIRED = "{field} : champ obligatoire vide"
MSG_POSTCODE = "code_postal « {value} » : 5 chiffres attendus"
MSG_INSEE = "code_insee « {value} » : code commune INSEE à 5 caractères attendu (ex. 35238)"
MSG_PIVOT = "pivot « {value} » : SIRET, RNA ou RIDET attendu (9 à 14 lettres ou chiffres)"
MSG_ENUM = "{field} : valeur « {value} » inconnue du standard"
MSG_ENUM_ABANDONED = "{field} : valeur « {value} » d'une version antérieure, sans équivalent aujourd'hui"
MSG_NUMBER = "{field} « {value} » : nombre attendu"
MSG_LAT_RANGE = "latitude « {value} » : doit être comprise entre -90 et 90"
MSG_LON_RANGE = "longitude « {value} » : doit être comprise entre -180 et 180"
MSG_COORD_PAIR = "{field} : latitude et longitude doivent être renseignées ensemble"
MSG_PHONE = "telephone « {value} » : numéro non reconnu (format attendu : +33 suivi de 9 chiffres)"
MSG_DATE = "date_maj « {value} » : date attendue au format AAAA-MM-JJ"
MSG_MAX_LENGTH = "{field} : {length} caractères, {max} au maximum"
MSG_DUPLICATE = "id « {value} » : déjà présent ligne {line}"
MSG_EXTRA_COLUMNS = "ligne : {count} valeur(s) en trop par rapport à l'en-tête"
MSG_NOT_AN_OBJECT = "lieu illisible : un objet JSON (entre accolades) est attendu"
MSG_ID_DERIVED = "id absent : identifiant « {value} » calculé à partir du nom, du code postal et de l'adresse"
MSG_ID_OF_ANOTHER_SOURCE = ("id « {value} » : déjà celui de « {other} », d'une autre source (les identifiants sont "
                            "propres à chaque producteur) : enregistré sous « {stored} »")
MSG_ID_TAKEN_OVER = ("id « {value} » : remplace « {other} », enregistré sous cet id ; si les fichiers viennent de "
                     "producteurs différents, importez chacun avec --source NOM")
MSG_INSEE_DERIVED = "code_insee absent : {insee} ({commune}{postcode}), d'après le référentiel des communes"
MSG_INSEE_REPLACED = ("code_insee « {value} » {reason} : remplacé par {insee} ({commune}{postcode}), d'après le "
                      "référentiel des communes")
INSEE_INVALID = "invalide"
INSEE_UNKNOWN = "inconnu (aucune commune n'a ce code)"
INSEE_OTHER_DEPARTEMENT = "désigne {commune} ({departement}), hors du département du code postal {postcode}"
MSG_COMMUNE_DERIVED = "commune absente : {commune}, d'après le code INSEE ou le code postal"
MSG_POSTCODE_DERIVED = "code_postal absent : {postcode}, d'après la commune"
MSG_COORDS_SWAPPED = "latitude {latitude} et longitude {longitude} inversées : remises dans l'ordre"
MSG_POSITION_COMMUNE = "{reason} : position de la commune utilisée ({commune}, {insee}), approximative"
POSITION_REASONS = {
    "absent": "coordonnées absentes",
    "out_of_range": "coordonnées hors limites ({latitude}, {longitude})",
    "zero": "coordonnées nulles (0, 0)",
    "outside_france": "coordonnées hors de France ({latitude}, {longitude})",
    "far": "coordonnées à {distance} km de la commune ({latitude}, {longitude})",
}
MSG_NO_POSITION = ("position introuvable : pas de coordonnées utilisables, et la commune n'est pas reconnue "
                   "(commune « {commune} », code postal « {postcode} », code INSEE « {insee} »)")

# Row-level templates, for tests that check every message is one of ours.
ROW_TEMPLATES = (
    MSG_REQUIRED, MSG_POSTCODE, MSG_INSEE, MSG_PIVOT, MSG_ENUM, MSG_ENUM_ABANDONED, MSG_NUMBER, MSG_LAT_RANGE,
    MSG_LON_RANGE, MSG_COORD_PAIR, MSG_PHONE, MSG_DATE, MSG_MAX_LENGTH, MSG_DUPLICATE, MSG_EXTRA_COLUMNS,
    MSG_NOT_AN_OBJECT, MSG_ID_DERIVED, MSG_NO_POSITION, MSG_INSEE_DERIVED, MSG_INSEE_REPLACED, MSG_COMMUNE_DERIVED,
    MSG_POSTCODE_DERIVED, MSG_COORDS_SWAPPED, MSG_POSITION_COMMUNE,
)

# --- Summary ------------------------------------------------------------------------------------
SUMMARY_COUNTS = "{created} lieu(x) créé(s), {updated} mis à jour, {unchanged} inchangé(s)."
SUMMARY_NO_ERROR = "Aucune ligne rejetée."
SUMMARY_REJECTED = "{rejected} ligne(s) rejetée(s) ({errors} erreur(s)) :"
SUMMARY_ERROR_LINE = "  ligne {line}{row} : {message}"
SUMMARY_ERROR_ROW = " (id {row_id})"
SUMMARY_MORE = "  … et {count} autre(s) erreur(s)."
SUMMARY_WITHDRAWN = ("{count} lieu(x) de la source « {source} » absent(s) du nouveau fichier : retiré(s), ils ne sont "
                     "plus proposés (gardés pour les orientations passées).")
SUMMARY_NOT_WITHDRAWN = ("Aucun lieu de la source « {source} » n'a été retiré : le fichier n'a donné aucun lieu "
                         "utilisable, ce n'est sans doute pas le bon fichier.")
MSG_REPLACE_NEEDS_SOURCE = ("--remplacer demande --source NOM : le nom de la source dont ce fichier est la nouvelle "
                            "version.")
MSG_SOURCE_NAME = "--source : un nom de 1 à 120 caractères est attendu."

# Version of the standard the file follows (mapping, standard_versions).
SUMMARY_VERSION = ("Version du standard reconnue : {label}, {title} ; colonnes et valeurs sont lues dans la "
                   "version actuelle (voir docs/standard-versions.md).")
SUMMARY_LEGACY_COLUMNS = "Colonnes d'une version antérieure, lues sous leur nom actuel : {columns}."
SUMMARY_IGNORED_COLUMNS = "Colonnes supprimées du standard, ignorées : {columns}."
SUMMARY_UNKNOWN_COLUMNS = "Colonnes inconnues du standard, ignorées : {columns}."

# Warnings: the place is kept. Grouped by kind; the title says what the import did.
SUMMARY_WARNINGS = "{count} avertissement(s), lieux gardés :"
SUMMARY_WARNING_KIND = "- {title} : {count}"
SUMMARY_WARNING_VALUE = "    {field} « {value} » : {count} lieu(x)"
SUMMARY_WARNING_FIELD = "    {field} : {count} lieu(x)"
SUMMARY_WARNING_MORE_VALUES = "    … et {count} autre(s) valeur(s)"
SUMMARY_WARNING_EXAMPLE = "    ligne {line}{row} : {message}"
SUMMARY_WARNING_MORE = "    … et {count} autre(s)"

WARNING_KINDS = {
    "valeur_inconnue": "valeurs inconnues du standard, retirées de leur liste",
    "valeur_abandonnee": "valeurs d'une version antérieure sans équivalent aujourd'hui, retirées "
                         "(docs/standard-versions.md dit pourquoi)",
    "champ_vide": "champs obligatoires du standard vides",
    "pivot": "SIRET ou RNA invalides, retirés",
    "code_postal": "codes postaux invalides, retirés",
    "code_insee": "codes INSEE invalides, retirés",
    "coordonnee": "coordonnées illisibles ou incomplètes, retirées",
    "telephone": "numéros de téléphone non reconnus, retirés",
    "date_maj": "dates de mise à jour illisibles, retirées (le lieu compte comme non mis à jour)",
    "resume_trop_long": "résumés de plus de 280 caractères, retirés (la présentation détaillée reste)",
    "colonnes_en_trop": "lignes plus longues que l'en-tête : valeurs en trop ignorées",
    "id_calcule": "identifiants absents : identifiant stable calculé (nom, code postal, adresse)",
    "id_autre_source": "identifiants déjà pris par un lieu d'une autre source : lieu enregistré sous un identifiant "
                       "propre à sa source",
    "id_repris": "identifiants d'un lieu déjà enregistré sous un autre nom : ce lieu est remplacé",
    "code_insee_deduit": "codes INSEE absents, invalides, inconnus ou d'un autre département que le code postal, "
                         "déduits de la commune et du code postal",
    "commune_deduite": "communes absentes, complétées d'après le code INSEE ou le code postal",
    "code_postal_deduit": "codes postaux absents, complétés d'après la commune",
    "position_commune": "coordonnées absentes ou inutilisables : position de la commune (approximative)",
    "coordonnees_inversees": "latitude et longitude inversées, remises dans l'ordre",
}
# Kinds whose summary counts places per value (the value says what to fix in the source).
WARNING_VALUES_COUNTED = frozenset({"valeur_inconnue", "valeur_abandonnee", "champ_vide"})
