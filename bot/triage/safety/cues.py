"""Tier 2 of the safety screen: a broad table of cues of possible danger.

Tier 1 (``bot.triage.emergencies``) names a vital emergency only when a phrase leaves no doubt. Many people
in danger write without those phrases: "je veux juste que ça s'arrête", "je serai plus là le mois
prochain", "ya qqn qui secoue ma poignée". This table catches such cues. A cue does not give the
number straight away: it raises a short safety check ("êtes-vous en danger en ce moment ?") with the
numbers, so a cue may be broad. A false alarm costs one kind sentence; a miss can cost a life.

How to read it: each row is (kind, name, pattern). The pattern is a regular expression over the same
expanded text as tier 1 (lower case, no accents, apostrophes as spaces, SMS spellings expanded:
"jsuis" -> "je suis"). ``(?: \\w+){0,3}`` means "up to three words in between". The kind says which
number the check gives first (``bot.triage.safety.screen.possible_numbers``); when cues of several kinds match,
the kind the safety classifier finds likeliest among them wins (``bot.triage.safety.screen.possible_kind``).

Documented choices (each keeps an ordinary look-alike quiet):
- "j'en peux plus" alone is distress; "j'en peux plus de ce dossier / de la caf" is not a cue.
- "plus envie" only of living, waking up, anything at all ("envie de rien"), not "plus envie de remplir".
- "je ne serai plus là" and farewells ("dites à mes enfants que je les aime") are cues; "je ne serai pas
  là lundi au rendez-vous" is not.
- medicines are a cue only when stocked, counted or kept "pour ce soir", never "mes médicaments du mois".
- a child alone is a cue with a duration or at night; "seule responsable de mon fils" is not.
- fire, smoke and gas are cues when happening ("ça sent le gaz"), not a gas bill or "feu vert".
- an accident is a cue when happening now or with someone hurt or stuck; "accident du travail l'an
  dernier" is not.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Optional

# Fragments (expanded text).
_KID = (r"(?:enfants?|fils|filles?|bebes?|petite?s?|gamin\w*|gosses?|mome?s?|ados?|neveux?|nieces?|"
        r"nourrissons?|fillette|garcon|garconnet|petit garcon|petite fille|jumeaux|jumelles)")
_PARTNER = (r"(?:mari|conjoint\w*|compagnon|copain|concubin\w*|partenaire|ex|ex mari|mec|homme|epoux|"
            r"husband|boyfriend|ami)")
_MEDS = (r"(?:medicaments?|medocs?|cachets?|comprimes?|pilules?|somniferes?|anxiolytiques?|antidepresseurs?|"
         r"doliprane|paracetamol|lexomil|xanax|tramadol|boites?|plaquettes?)")
_ADMIN = (r"(?:ce|cette|ces|mon|ma|mes|la|le|les|l|leur|leurs|votre|vos|son|sa|ses|du|des|toute? cette|"
          r"tous ces|toutes ces)\s?(?:\w+ )?(?:dossiers?|papiers?|demarches?|formulaires?|sites?|caf|impots?|"
          r"administration|paperasse|ordi\w*|telephone|appli\w*|procedures?|courriers?|factures?|boulot|travail|"
          r"attente|mot de passe|code|compte|espace|france travail|pole emploi|prefecture|ameli|banque|"
          r"situation administrative|histoires? de|questions?|mails?)")
_NOWISH = r"(?:ce soir|cette nuit|maintenant|tout de suite|en ce moment|la|aujourd hui|depuis ce matin|depuis hier)"

CUES: tuple[tuple[str, str, str], ...] = (
    # --- distress and self-harm (3114 with 112) ---------------------------------------------------
    ("suicide", "que ca s arrete", r"(?:que|que tout|tout) (?:ca )?s arrete(?! (?:de|pas|la caf|le)\b)"
                                   r"|(?:que|faire) (?:tout )?(?:ca |la douleur |la souffrance )?(?:cesse|s arrete) (?:enfin|pour de bon|une bonne fois)"),
    ("suicide", "plus envie de vivre", r"(?:plus|pu|pas|aucune) (?:envie|gout|force|courage|raison|interet)s? "
                                       r"(?:de |d )?(?:vivre|me lever|me reveiller|continuer|rien|exister|etre la|me battre|avancer)\b"
                                       r"(?! (?:ces|ce|cette|les|mes|mon|ma|le|la|a (?:remplir|faire|chercher))\b)"),
    ("suicide", "envie de rien", r"envie de rien|plus envie de rien|gout a rien|plus de gout a rien"),
    ("suicide", "ne plus se reveiller", r"(?:plus|pu|jamais|pas) (?:envie de |me )?(?:me )?reveiller(?: le matin| demain)?(?= $| le matin| demain| jamais| du tout)"
                                        r"|(?:m endormir|dormir) (?:et )?(?:ne )?(?:plus|pu|jamais) (?:me )?reveiller|dormir pour toujours"),
    ("suicide", "ne plus etre la", r"(?:ne )?(?:serai|serais|sera|seras|serons|suis|etre) (?:plus|pu|bientot plus) (?:la|ici|de ce monde|parmi vous)\b"
                                   r"(?! (?:a|au|pour|le|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|demain|ce|cette|la semaine|entre|de \d)\b)"
                                   r"|(?:plus|pu) la (?:pour|quand|demain|le mois|la semaine|dans)\b(?! (?:le|mon|ma|les) (?:rdv|rendez vous|rendezvous|controle|appel)\b)"),
    ("suicide", "plus la bientot", r"(?:pas|plus) (?:sur |sure |certaine? )?que je (?:serai|sois|serais) encore la|serai (?:plus|pas) encore la"
                                   r"|plus rien a perdre|je me (?:tue|tuerai|tuerais|suicide|suiciderai)\b(?! (?:a|au)\b)"),
    ("suicide", "j en peux plus", r"(?:j en |en |je )?(?:peux|peut|pouvons) (?:plus|pu)(?= $| je| j| tout| de (?:vivre|tout|rien|cette vie|ma vie|moi)\b| rien| vraiment| franchement| sa| c)"
                                  r"(?! (?:de|des|du|avec) )"),
    ("suicide", "a quoi bon", r"a quoi bon|(?:ca|sa) sert a rien de (?:vivre|continuer|se battre|lutter)|plus (?:aucun|de) sens"
                              r"|(?:plus|pas) (?:d |de )?(?:avenir|issue|espoir|solution)(?! (?:pour|a) (?:mon|ma|le|la|ce|cette) (?:dossier|demande|probleme|papier))"),
    ("suicide", "fardeau", r"(?:un )?(?:poids|fardeau) pour (?:tout le monde|les autres|mes enfants|ma famille|mes proches|vous|eux)"
                           r"|mieux sans moi|debarrass\w* de moi|personne (?:ne )?(?:va |verra |remarque\w* )?(?:me )?(?:manque|regrett|remarqu)\w*"),
    ("suicide", "adieux", r"adieux?|fait mes adieux|dernier message|derniere fois que (?:je vous|j ecris|vous)|dites (?:a|leur|lui) (?:\w+ ){0,4}que je (?:l |les |vous )?aim\w*"
                          r"|prenez soin (?:de|d) (?:mes|ma|mon|elle|lui|eux)|pardon a (?:tous|tout le monde|mes)|je vous aime tous|merci pour tout et"
                          r"|(?:j ai |je )(?:tout )?(?:range|prevu|regle|organise|prepare|ecrit) (?:pour|avant) (?:apres|de partir|mon depart|la fin|ce soir|cette nuit)"
                          r"|(?:j ai )?ecrit (?:une|des|ma|mes) lettres? (?:pour|a) (?:mes|ma|mon)"),
    ("suicide", "partir pour de bon", r"(?:partir|m en aller|disparaitre|m endormir|en terminer|tirer ma reverence) (?:pour de bon|pour toujours|definitivement|a jamais|une bonne fois)"
                                      r"|(?:envie|besoin|veux|voudrais|vais) (?:de |d )?(?:partir|disparaitre|m en aller)(?= $| loin de tout| de tout| pour| et| je| j)"),
    ("suicide", "moyens", rf"(?:garde|gardes|garder|mis de cote|mets de cote|stock\w*|accumul\w*|amass\w*|compte\w*|ramass\w*|cache\w*|pret\w*|prepar\w*|sorti\w*|aligne\w*) "
                          rf"(?:\w+ ){{0,4}}{_MEDS}|{_MEDS}(?: \w+){{0,6}} (?:pour ce soir|pour cette nuit|pour en finir|pour dormir longtemps|pour de bon|tous d un coup|toutes d un coup|d un coup)"
                          r"|tout (?:avaler|prendre) d un coup|(?:corde|pont|voie ferree|rails|balcon|fenetre|train|lame|rasoir)(?: \w+){0,4} (?:pour (?:ce soir|en finir|moi)|ce soir|cette nuit|c est decide|j ai decide)"
                          r"|(?:me faire du mal|me blesser|me couper|me scarifi\w*|me mutil\w*|scarifi\w*|automutil\w*|mutil\w*)"),
    ("suicide", "il parle de partir", r"(?:il|elle|mon \w+|ma \w+) (?:parle|dit|ecrit|repete|raconte) (?:\w+ ){0,3}(?:de |d )?(?:partir pour de bon|ne plus etre la|plus etre la|disparaitre|en finir|mourir|plus vouloir vivre)"
                                      r"|(?:il|elle) (?:ne )?(?:veut|voudrait) (?:plus|pu) (?:vivre|se lever|manger|sortir du lit)|(?:il|elle) (?:a|donne|distribue|distribuee) (?:donne |distribue )?(?:toutes? ses|tous ses) (?:affaires|objets)"),
    ("suicide", "apres ma mort", r"(?:si|quand|apres que|une fois que) (?:je|j) (?:meurs|mourrai|suis (?:decede|mort)\w*|ne suis plus la|serai (?:plus la|mort\w*|parti\w*))"
                                 r"(?=.*\b(?:bientot|ce soir|cette nuit|cette semaine|demain|prochainement)\b)"
                                 r"|(?:decede|mort|deces)\w*(?: \w+){0,8} (?:je demande pour moi|c est pour moi)"),
    ("suicide", "rejoindre un mort", r"(?:veut|veux|vais|va|aller|pense a|envie d|envie de) (?:aller )?(?:la |le |les )?rejoindre(?: \w+){0,2}"
                                     r"(?=.*\b(?:mort\w*|decede\w*|deces|au ciel|disparu\w*|partie? trop tot|veuf|veuve)\b)"
                                     r"|(?:mort\w*|decede\w*|deces|veuf|veuve)(?: \w+){0,10} (?:veut|veux|vais|va|aller|pense a) (?:aller )?(?:la |le )?rejoindre"),
    ("suicide", "idees noires", r"idees? (?:noires|sombres|bizarres sur la mort)|pense\w* (?:a|souvent a) la mort|pense\w* a (?:partir|mourir|en finir)|plus envie d etre en vie|fatigue\w* de vivre|las de vivre|envie de mourir|veux mourir|pense a mourir"),
    # --- medical (15) --------------------------------------------------------------------------------
    ("medical", "ne repond plus", r"(?<!conseiller )(?<!conseillere )(?<!proprio )(?<!proprietaire )(?<!bailleur )(?<!caf )(?<!site )(?<!service )(?<!agence )(?<!personne )(?<!mairie )(?<!ecole )(?<!banque )(?<!tel )(?<!telephone )(?<!mail )(?<!ex )(?<!je )(?<!j )"
                                  r"(?:repond|reagit|bouge|ouvre (?:plus|pas) les yeux|se reveille) (?:plus|pas|pu)\b(?! (?:au|a|aux|sur|de|depuis (?:des|plusieurs|\d+) (?:jours|semaines|mois))\b)"
                                  r"|(?:par terre|au sol|tombe\w*|effondre\w*|allonge\w*)(?: \w+){0,5} (?:repond|reagit|bouge|respire|parle) (?:plus|pas|pu|mal)"),
    ("medical", "respiration", r"respir\w* (?:bizarre\w*|fort|mal|tres vite|plus|pas|difficile\w*|avec difficulte|par a coups|comme)|(?:souffle|souffler) (?:court|mal)|(?:peut|peux|arrive) (?:plus|pas) (?:a )?(?:respirer|souffler|parler)"
                               r"|levres? (?:bleue?s?|violette?s?)|devient (?:tout )?(?:bleu|violet|gris)|s etouffe|etouff\w*|avale de travers"),
    ("medical", "confusion", r"(?:ne )?(?:me|nous|la|le|les) reconna\w* (?:plus|pas)|(?:dit|raconte|parle) n importe quoi|"
                             r"(?:toute? )?(?:blanche?|pale|grise?) (?:et |, )?(?:en sueur|trempe\w*|transpire\w*)|delire\w*|confus\w* (?:d un coup|soudain)"),
    ("medical", "douleur thoracique", r"(?:mal|douleur|serre|serrement|poids|point)\w* (?:\w+ ){0,2}(?:a la |dans la |sur la )?poitrine|bras gauche|(?:coeur|palpitations?) (?:qui )?(?:bat|s emballe|lache)"),
    ("medical", "signes d avc", r"bouche (?:de travers|tordue)|visage (?:de travers|paralys\w*)|(?:bras|jambe|cote) (?:\w+ )?(?:paralys\w*|ne repond plus|tout mou)|parle (?:bizarrement|plus bien|de travers|n importe comment) (?:d un coup|depuis)|paralys\w*"),
    ("medical", "convulsions", r"convuls\w*|tremble (?:de partout|de tout son corps|sans s arreter)|crise (?:d epilepsie|de spasmes)|spasmes|les yeux (?:revulses|qui tournent)"),
    ("medical", "saignement", r"saign\w* (?:beaucoup|enormement|sans arret|fort|abondamment|partout|de la tete|du nez depuis)|(?:plein de|beaucoup de) sang|sang partout|(?:perd|perds) (?:beaucoup de |du )sang|hemorragie|pisse le sang"),
    ("medical", "armoire a pharmacie", r"(?:avale|pris|bu)\w* (?:tout )?ce qu (?:il y avait|y avait) dans (?:la|sa|ma|l) (?:pharmacie|armoire|boite)"),
    ("medical", "ingestion", rf"(?:a|ai|as|ont|avons|viens d|vient d|venons d) (?:avale\w*|bu|boire|pris|mange\w*)(?: \w+){{0,3}} (?:toute? (?:la|sa|ma|une)|tous (?:les|ses|mes)|plusieurs|une boite|la boite|la plaquette|une plaquette|des|du|de la|de l|\d+)(?: \w+){{0,2}} (?:{_MEDS}|javel|produit|detergent|lessive|poison|mort aux rats|pesticide|alcool et)"
                                r"|(?:avale|bu)\w* (?:de la |du |un |une |des )?(?:javel|produit menager|detergent|white spirit|pastille de lave|capsule de lessive|poison|antigel|essence|pile|mort aux rats|raticide|insecticide|desherbant|lessive|destop|soude)"),
    ("medical", "malaise", r"(?<!serveur )(?<!site )(?<!reseau )(?<!systeme )(?<!appli )(?<!application )(?<!ordi )(?<!colis )(?<!dossier )(?<!courrier )(?<!telephone )(?:est tombe\w*|s est effondre\w*|s est ecroule\w*|perdu connaissance|tourne de l oeil|tombe dans les pommes|tombee dans les pommes)"
                           r"(?! (?:l an|l annee|il y a|la semaine derniere|le mois dernier|en \d{4})\b)"),
    ("medical", "bebe", r"(?:bebe|nourrisson|nouveau ne|mon petit de \d+ mois)(?: \w+){0,4} (?:respire|mou|molle|bleu|ne tete plus|ne boit plus|ne mange plus depuis|brulant|fievre|40|41|convuls\w*|gris|blanc)"),
    ("medical", "fievre forte", r"(?:fievre|temperature) (?:a |de )?(?:40|41|42)|(?:40|41|42) de fievre"),
    # --- police (17) ---------------------------------------------------------------------------------
    ("police", "porte forcee", r"(?:secoue\w*|force\w*|tripote\w*|tourne\w*|essaie\w* d ouvrir|tape\w* fort|cogne\w*|defonc\w*|cass\w*) (?:\w+ ){0,2}(?:ma |la |notre )?(?:porte|poignee|serrure|fenetre|vitre|volet)\w*"
                               r"|(?:porte|poignee|serrure)(?: \w+){0,3} (?:bouge|tourne|grince|force|secoue)|quelqu un (?:essaie|essaye|tente) (?:d ouvrir|d entrer|de rentrer)"),
    ("police", "intrus", r"(?:quelqu un|qqun|un homme|des hommes|un type|des types|un inconnu|des inconnus|des gens|des individus|des voleurs|ils)(?: \w+){0,3} (?:est|sont|dans|rentre\w*|entre\w*|monte\w*|en bas|chez moi|dans (?:la|ma|notre) (?:maison|cuisine|chambre|cave|cour|jardin)|dans l appart\w*)\b"
                         r"(?! (?:l an|hier|la semaine derniere|le mois dernier|il y a)\b)(?=.*(?:maintenant|en ce moment|la|encore|toujours|j entends|je les entends|peur|cache|bruit|vite|help|aide))"
                         r"|(?:j entends|on entend)(?: \w+){0,4} (?:bruits?|pas|voix|quelqu un|marcher|fouiller)(?: \w+){0,4} (?:en bas|dans (?:la|le|l|ma|mon)|chez moi|a cote|au rez|dans l appart)"),
    ("police", "cache", r"(?:je suis|je me suis|on est|on s est|nous sommes|suis|me suis) (?:\w+ )?(?:cache\w*|enferme\w* dans (?:la|les|ma|mon) (?:salle de bain|toilettes|chambre|placard|cave|voiture))"),
    ("police", "suivi menace", r"(?:me|nous) (?:suit|suivent|attend\w*|guett\w*) (?:depuis|dans|en bas|devant|jusqu|partout|dehors)|(?:devant|en bas de) (?:ma|la|chez)(?: \w+){0,3} (?:porte|chez moi|immeuble)(?: \w+){0,4} (?:attend|menace|crie|hurle|frappe)"
                                r"|menace\w*(?: \w+){0,4} (?:de mort|avec|tuer|frapper|bruler|revenir)"
                                r"|(?:couteau|arme|fusil|flingue|pistolet|machette|hache|batte)s?(?: \w+){0,4} (?:devant (?:moi|nous|la porte|chez)|en bas|a la main|sur moi|sur nous|sur lui|sur elle|sur le palier|pointe|sort\w*|brandi\w*|menace\w*|crie|tirer|tire)"
                                r"|coups? de feu|des tirs|tire sur|fusillade|(?:inconnu|homme|type|quelqu un)(?: \w+){0,2} (?:sonne|frappe|tape|cogne) (?:chez|a ma porte|sans arret)"
                                r"|(?:sait|savait|connait) ou j habite|(?:il|ils) (?:reviendra|reviendrait|reviendront|va revenir|vont revenir) (?:ce soir|cette nuit|demain|quand)"
                                r"|(?:est|sont) (?:encore|toujours) chez (?:elle|lui|moi|nous)|refuse\w* de partir"
                                r"|(?:il|ils|un homme|un type|quelqu un) (?:a|ont|avec|sort|sortent) (?:un|une|des) (?:couteau|arme|fusil|flingue|pistolet|machette|hache|batte)"
                                r"|(?:bagarre|rixe|se battent|tabasse\w*|lynch\w*|agress\w*)(?: \w+){0,4} (?:en bas|devant|dans la rue|maintenant|en ce moment|vite|dehors)"),
    ("police", "vol en cours", r"(?:en train de|sont en train|est en train)(?: \w+){0,2} (?:voler|casser|cambrioler|fouiller|forcer|tout casser|defoncer)|cambriol\w*(?= .*(?:maintenant|en ce moment|encore la|cette nuit|toujours la|la|en cours))"),
    # --- children (119) ------------------------------------------------------------------------------
    ("child_danger", "enfant seul", rf"{_KID}(?: \w+){{0,6}} (?:seule?s?|tout seule?s?|sans (?:adulte|personne|parents?|sa mere|son pere|surveillance))(?: \w+){{0,4}} (?:depuis|toute la|la nuit|des heures|jours|nuits?|heures|week end|ce soir|cette nuit|enferme\w*)"
                                    rf"|(?:laiss\w*|abandonn\w*)(?: \w+){{0,2}} (?:{_KID})(?: \w+){{0,4}} (?:seule?s?|sans personne|a la maison|dans (?:la|une) voiture)"
                                    rf"|{_KID}(?: \w+){{0,4}} (?:personne (?:ne )?(?:s en occupe|pour (?:le|la|les) (?:garder|nourrir))|(?:parents?|mere|pere|maman|papa) (?:\w+ ){{0,2}}(?:partie?s?|disparue?s?|pas rentre\w*|jamais la) (?:depuis|pas revenu|plus revenu))"),
    ("child_danger", "enfant maltraite", rf"{_KID}(?: \w+){{0,6}} (?:(?:a|ont|avec) (?:des |plein de )?(?:bleus|marques|traces|brulures)|pleur\w* (?:toute la nuit|tout le temps|sans arret|fort)|hurl\w*|crie\w* (?:au secours|a l aide|de douleur|tres fort|tous les soirs|toutes les nuits)|affame\w*|maigre|pas mange|mange pas|a faim|ont faim|enferme\w*|tape\w*|frapp\w*|secoue\w*|touche\w* (?:ses|son|sa|partout|ses parties|sexe)|maltrait\w*|battu\w*|dort dehors)"
                                         r"|(?:mon|ma|mes) (?:pere|mere|beau pere|belle mere|parents|daron\w*) (?:me |m )(?:\w+ ){0,2}(?:tape\w*|frappe\w*|bat|enferme\w*|touche\w*|fait mal|brule\w*|prive\w*|insulte\w* et)"
                                         r"|j ai (?:1[0-7]|[7-9]) ans(?=.*(?:tape|frappe|bat|peur|enferme|touche|mal|fugue|parti|rue|dehors))"),
    ("child_danger", "enfant disparu", rf"{_KID}(?: \w+){{0,4}} (?:(?:a |est )?fugue\w*|(?:est |a )?(?:parti\w*|disparu\w*)(?: \w+){{0,2}} (?:depuis|cette nuit|hier soir|ce matin|sans rien dire)|(?:pas|jamais) rentre\w*(?: \w+){{0,3}} (?:depuis|cette nuit|hier))"),
    # --- partner violence (3919) -----------------------------------------------------------------------
    ("violence_women", "conjoint violent", rf"(?:mon|le|ma|mon ex|l) {_PARTNER}(?: \w+){{0,4}} (?:me |m )(?:\w+ ){{0,2}}(?:tape\w*|frapp\w*|pouss\w*|serr\w*|etrangl\w*|enferm\w*|menac\w*|cogn\w*|gifl\w*|bless\w*|fait mal|fait peur|insult\w* et|trait\w* de|cass\w*|jet\w*|prend (?:mon|mes) (?:argent|papiers|telephone)|surveill\w*|empech\w*|interdit\w*|confisqu\w*)"
                                           rf"|peur (?:de|d) (?:lui|rentrer|mon {_PARTNER}|mon ex|ce qu il va faire|ce qu il peut faire)|il (?:va|peut) me (?:tuer|faire du mal|frapper)|(?:il|mon {_PARTNER}) (?:a|m a) (?:cass\w*|jet\w*|lance\w*) (?:\w+ ){{0,3}}(?:sur moi|a la figure|contre moi|mon telephone)"
                                           r"|husband (?:hit|beat|hurt)|mari (?:frappe|tape|bat) moi|il (?:me |m )(?:a )?(?:tape|frappe|pousse|gifle|etrangle|cogne|bat|serre le cou)"),
    ("violence_women", "conjoint violent envers elle", rf"(?:son|leur) {_PARTNER}(?: \w+){{0,2}} (?:qui )?(?:la |les )?(?:cogne\w*|frapp\w*|tape\w*|bat|battu\w*|tabass\w*|etrangl\w*|enferm\w*|sequestr\w*|menac\w*)"),
    ("violence_women", "marques", r"(?:des |plein de )?(?:bleus|marques|traces|hematomes?|oeil au beurre noir|levre fendue)(?: \w+){0,4} (?:partout|sur (?:le|les|mon|ma|mes|son|sa|ses) (?:bras|visage|cou|corps|jambes?|ventre))"),
    # --- shelter (115) -----------------------------------------------------------------------------
    ("shelter", "dormir dehors", r"(?:dormir|dors|dort|dormons|dorment|dormi|passer la nuit|passe la nuit|passer les nuits|nuit|nuits|coucher|couche) (?:\w+ ){0,2}(?:dehors|dans la rue|a la rue|dans (?:ma|la|une|notre|sa|mon|un|le|les) (?:voiture|gare|parc|tente|cage d escalier|hall|jardin|metro|station|bus|abri bus|carton|squat|cave|parking|banc|porche))"
                                 r"|(?:nulle part|pas d endroit|aucun endroit|pas de place|rien) (?:ou |pour )?(?:dormir|aller|loger|passer la nuit|me loger|cette nuit|ce soir|la nuit)|(?:ou|comment) (?:je vais |on va |aller )?(?:dormir|passer la nuit)(?: \w+){0,2} (?:ce soir|cette nuit|demain)"),
    ("shelter", "mis dehors", r"(?:mis\w*|jete\w*|vire\w*|fout\w*|chasse\w*|sortie?s?) (?:\w+ ){0,2}(?:dehors|a la porte|de chez (?:moi|nous|lui|elle|mes|mon|ma|sa|son|ses|leur)|de (?:l |la |mon |ma |notre )(?:appart\w*|maison|logement|foyer|hotel|chambre|centre))(?! (?:de|du|d) (?:pole|france|la caf|mon travail|mon boulot)\b)"
                              r"|(?:changer|change) les serrures|(?:a|avec) (?:mes|nos) (?:affaires|valises|sacs) (?:dans la rue|dehors|sur le trottoir)|(?:ce soir|cette nuit|ce matin|aujourd hui)(?: \w+){0,4} (?:expuls\w*|huissier|policiers?) (?:sont venus|est venu|ont|nous)"),
    ("shelter", "sans toit", r"(?:sans|pas de|plus de|aucun) (?:toit|logement|abri|hebergement|domicile|chez moi)(?: \w+){0,3} (?:ce soir|cette nuit|depuis|maintenant|pour ce soir|avec (?:mes|mon|ma) (?:enfants?|bebe|fils|fille))"
                             r"|(?:a la rue|dans la rue|dehors) (?:avec|depuis|ce soir|cette nuit|maintenant|et il fait froid)|(?:hotel|hebergement|foyer) (?:\w+ ){0,2}(?:fini|termine|s arrete) (?:ce soir|aujourd hui|demain matin)|froid dehors"),
    # --- general (112) -----------------------------------------------------------------------------
    ("general", "feu", r"(?<!coups de )(?<!coup de )(?:il y a |y a )?(?:le )?feu (?:dans|chez|a la|au|partout|prend|a pris)|(?:mis|met|mettre) le feu|enfume\w*|(?:de la |beaucoup de |plein de )?fumee (?:qui sort|partout|dans|sous|noire|epaisse|chez)|sent la fumee|flammes|(?:ca |sa |la \w+ |le \w+ )brule\b|odeur de brule|en feu|prend feu|pris feu|crame"),
    ("general", "gaz", r"(?:ca |sa |il )?sent (?:\w+ ){0,2}(?:le gaz|gaz|bizarre|le brule|le chaud|la fumee)|odeur (?:de gaz|bizarre|chimique|de fumee)|fuite(?: \w+){0,2} gaz|gaz qui fuit|monoxyde|explos\w*|detecteur (?:de fumee|de co) sonne|alarme incendie"),
    ("general", "accident", r"accident(?! (?:(?:du|de) )?(?:travail|trajet)\b)(?: \w+){0,4} (?:devant|en bas|sur la route|sur l autoroute|maintenant|la|grave|ici|blesse\w*|coince\w*)"
                            r"|(?:voiture|moto|scooter|velo|camion|bus|car|car scolaire|tram|train)(?: \w+){0,3} (?:retourne\w*|renverse\w*|encastre\w*|en feu|percute\w*|couche\w* sur|dans le fosse|sur le bas cote|sorti\w* de la route)"
                            r"|(?:balcon|plafond|toit|mur|immeuble|echafaudage|grue)(?: \w+){0,3} (?:s est )?(?:effondre\w*|ecroule\w*|tombe\w*) (?:sur|dessus)|(?:renverse\w*|percute\w*) par (?:une|un) (?:voiture|camion|moto|bus)"
                            r"|coince\w* (?:dedans|dessous|sous|dans (?:la|le|sa|une|un) (?:voiture|ascenseur|carcasse|decombres))|(?:blesse\w*|sang) (?:sur la route|par terre|partout)"),
    ("general", "noyade", r"(?:tombe\w*|coule\w*|emporte\w*) (?:dans|par) (?:l eau|la riviere|le canal|la piscine|la mer|le lac|le courant)|se noie|(?:en train de|va) se noyer|noyade|remonte (?:pas|plus)(?: a la surface)?|se debat (?:dans|au milieu)|a coule\b"),
    ("general", "au secours", r"(?<=^ )(?:aide|aidez|help|sos|au secours|a l aide|vite)(?: (?:moi|nous|svp|s il vous plait|vite|please|me|aide|aidez|help|sos))*(?= $)|venez vite|venez (?:m|nous) aider vite|please help"),
    ("general", "electrocution", r"electrocut\w*|court circuit(?: \w+){0,3} (?:feu|fumee|etincelles)|etincelles"),
)


@lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[str, re.Pattern[str], tuple[tuple[str, re.Pattern[str]], ...]], ...]:
    """Per kind: one alternation of its cues (a quick first look), then each cue (to name it).
    Whole words only: "feu" must not match inside "feuille"."""
    kinds: dict[str, list[tuple[str, str]]] = {}
    for kind, name, pattern in CUES:
        kinds.setdefault(kind, []).append((name, pattern))
    return tuple((kind, re.compile(r"\b(?:" + "|".join(f"(?:{p})" for _, p in rows) + r")\b"),
                  tuple((name, re.compile(rf"\b(?:{p})\b")) for name, p in rows)) for kind, rows in kinds.items())


def find_cues(expanded: str) -> list[tuple[str, str]]:
    """(kind, cue name) of every cue found in text already expanded by ``bot.triage.emergencies.expand``."""
    found = []
    for kind, any_cue, cues in _compiled():
        if any_cue.search(expanded):
            found.extend((kind, name) for name, pattern in cues if pattern.search(expanded))
    return found


def find_cue(expanded: str) -> Optional[tuple[str, str]]:
    """The first cue found, or None."""
    found = find_cues(expanded)
    return found[0] if found else None
