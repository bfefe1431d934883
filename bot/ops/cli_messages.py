"""French texts the `aiguillage` command prints for operators; conversation texts live in domain/."""

from __future__ import annotations

# str.format templates; keys are short English names, values are what the operator reads.
TEXTS: dict[str, str] = {
    # model
    "model_up_to_date": "Modèle à jour : {name}",
    "model_training": "Entraînement du modèle ({name})...",
    # classify and evaluate
    "answer_format": "--answer attend CLE=VALEUR, reçu « {pair} »",
    "classify_needs_input": "Donnez un message ou --batch FICHIER.",
    "batch_text_expected": "objet JSON avec un champ « text » attendu",
    "batch_unreadable_line": "ligne illisible : un objet JSON est attendu",
    "classify_level": "niveau : {level}",
    "classify_call": "appeler : {number}",
    "safety_model": "modèle de sécurité : {name}",
    "classify_safety_check": "danger possible : la vérification de sécurité est posée avant toute autre question",
    "classify_reason": "- {reason}",
    "classify_missing": "questions restantes : {missing}",
    "gate_failed": "Seuil de qualité non atteint : {line}",
    # directory and data
    "database_ready": "Base à jour : schéma à la révision {revision}.",
    "retention_invalid": "Délai de conservation invalide : {error}",
    "loading_demo_directory": "Annuaire vide : chargement de l'annuaire de démonstration.",
    # etat-lieux: what the directory covers
    "coverage_empty": "L'annuaire est vide : importez un fichier (aiguillage import-lieux FICHIER) ou chargez "
                      "la démonstration (aiguillage load-demo).",
    "coverage_places": "Annuaire : {places} lieux proposés.",
    "coverage_withdrawn": "{count} autres lieux sont retirés (import-lieux --remplacer) : gardés pour les "
                          "orientations passées, ils ne sont plus proposés.",
    "coverage_without_position": "- sans position : {count} (la recherche par distance ne les trouve pas)",
    "coverage_commune_position": "- position de la commune, distance approximative : {count}",
    "coverage_stale": "- données périmées (mises à jour il y a plus de {months} mois, ou sans date) : {count}",
    "coverage_by_departement": "Par département :",
    "coverage_departement": "  {code}{name} : {count}",
    "coverage_unknown_departement": "  département inconnu (ni code INSEE, ni code postal, ni position) : {count}",
    # run and production
    "startup_failed": "Le démarrage a échoué : voir var/log/rasa.log et var/log/actions.log",
    "ready": "Aiguillage est prêt. Page d'accueil : {desk}",
    "missing_debian_packages": "Paquets Debian manquants : {packages} (apt-get install {install})",
    "local_services": "PostgreSQL local : {database} ; Redis local : {redis}",
    "production_ready": "Aiguillage (profil production) est prêt : {url}/webhooks/desk/ "
                        "({instances} instances Rasa, budget de connexions PostgreSQL : {budget}).",
    "process_stopped": "Un processus s'est arrêté : arrêt du profil (voir les journaux).",
    # telegram
    "telegram_webhook_registered": "Webhook enregistré pour @{username} : {url}",
    "telegram_polling": "Relève Telegram vers {url} (Ctrl+C pour arrêter).",
    "telegram_forwarded": "{count} message(s) transmis.",
    "telegram_call_failed": "Échec de l'appel à Telegram : {error}",
    # notifications and follow-up
    "delivery_line": "{reference}  {kind:<8} {target}  {status}  tentatives={attempts}",
    "delivery_sent": "  envoyé={when}",
    "delivery_next_attempt": "  prochain essai={when}",
    "delivery_error": "  erreur={error}",
    "notifications_requeued": "{count} notification(s) remise(s) en file.",
    "notify_report": "envoyées : {sent}, à réessayer : {retried}, en échec : {failed}",
    "notify_polling": "Envoi des notifications toutes les {interval:g} s (Ctrl+C pour arrêter).",
    "followup_channels_missing": "Messages de suivi en attente pour les canaux non configurés : {channels}",
    "worker_notifications_report": "notifications envoyées : {sent}, à réessayer : {retried}, en échec : {failed}",
    "worker_followups_report": "messages de suivi envoyés : {sent}, à réessayer : {retried}, en échec : {failed}, "
                               "annulés : {cancelled}",
    "worker_polling": "Envoi des notifications et du suivi toutes les {interval:g} s (Ctrl+C pour arrêter).",
    "webhook_secrets_mismatch": "Donnez un --webhook-secret par --webhook (ou un seul pour tous).",
    "unknown_place": "Lieu inconnu : {place_id}",
    "channel_refused": "Réglage refusé ({code}) : {value}",
    "no_channel": "Aucun canal : courriel à la première adresse de l'annuaire (si SMTP est configuré).",
    "channel_line": "{kind:<8} {target}",
    "channel_signed": "  (signé)",
    "no_notification": "Aucune notification pour {reference}.",
    "status_count": "{status} : {count}",
    # console accounts
    "account_email_invalid": "Adresse e-mail invalide.",
    "account_password_short": "Mot de passe trop court (12 caractères au moins).",
    "account_password_long": "Mot de passe trop long.",
    "account_role_invalid": "Rôle invalide.",
    "account_place_required": "Un compte de médiateur doit être rattaché à un lieu (--lieu).",
    "account_place_unknown": "Lieu inconnu dans l'annuaire.",
    "account_email_taken": "Un compte existe déjà avec cette adresse.",
    "password_prompt": "Mot de passe (12 caractères au moins) : ",
    "password_confirm_prompt": "Confirmez le mot de passe : ",
    "passwords_differ": "Les deux saisies diffèrent.",
    "account_not_found": "Aucun compte avec cette adresse.",
    "account_deactivated": "Compte désactivé ; ses sessions sont fermées.",
    "account_created": "Compte {id} créé : {email}, {role}",
    "role_coordinator": "coordinateur (tous les lieux)",
    "role_mediator": "médiateur du lieu {place_id}",
    # settings
    "settings_ok": "Réglages valables ({count} variables vérifiées).",
}


def text(key: str, **values) -> str:
    """The French text for `key`, with its placeholders filled in."""
    return TEXTS[key].format(**values)
