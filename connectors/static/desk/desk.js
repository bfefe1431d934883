/* Aiguillage reception-desk page.
 * Security rule: server text is only ever inserted with textContent / createTextNode,
 * never innerHTML, so anything the bot says is shown literally. */
(function () {
  "use strict";

  // Resolve endpoints from this script's own URL so the page works under any prefix,
  // with or without a trailing slash on the page URL.
  var scriptSrc = (document.currentScript && document.currentScript.src) || "";
  var BASE = scriptSrc ? scriptSrc.replace(/static\/desk\.js(?:[?#].*)?$/, "") : "./";
  var WEBHOOK_URL = BASE + "webhook";
  var CONFIG_URL = BASE + "config";
  var CONTACT_URL = BASE + "contact";
  var REQUEST_TIMEOUT_MS = 20000;
  var SLIP_NORMAL_MAX = 22;   // estimated text lines that fit one A4 page at normal size
  var SLIP_COMPACT_MAX = 34;  // ... at compact size; beyond, dense

  // Every text the user reads or hears, in French, kept in one place (with the static texts of
  // index.html: headings, hints, and the "Nouvelle personne" confirmation dialog).
  var LABELS = Object.freeze({
    // chat
    you: "Vous : ",
    bot: "Aiguillage : ",
    sending: "Envoi en cours…",
    serverDown: "Le serveur ne répond pas. Votre message est gardé : réessayez dans un instant " +
      "(bouton « Envoyer » ou la réponse choisie).",
    // emergency banner and slip line
    emergencyCall: "Urgence : appelez le ",
    printEmergency: "Imprimer ce numéro",
    // card and slip headings
    why: "Pourquoi",
    nextStep: "Prochaine étape",
    thenStep: "Ensuite",
    whereToGo: "Où aller",
    toBring: "À apporter",
    otherContacts: "Autres contacts",
    reference: "Code de suivi",
    yourRequest: "Votre demande",
    // place details
    demo: "Données de démonstration",
    hours: "Horaires : ",
    hoursToConfirm: "Horaires à confirmer : appelez avant de vous déplacer.",
    phone: "Téléphone : ",
    map: "Voir sur la carte (OpenStreetMap)",
    updatedOn: "Informations mises à jour le ",
    distance: function (km) { return "à " + km + " km"; },
    distanceApprox: function (km) { return "à environ " + km + " km"; },
    approxPosition: "Position approximative (commune) : distance comptée depuis le centre de la commune.",
    decimalMark: ",",
    // screen-reader spelling of "-" in the reference code
    spokenDash: "tiret",
    // printable slip
    appName: "Aiguillage",
    slipDate: "Fiche remise le ",
    level: "Niveau : ",
    referenceLine: "Code de suivi : ",
    referencePurpose: "Donnez ce code au lieu : il y retrouve votre demande, sans tout vous redemander.",
    address: "Adresse : ",
    nextOpening: "Prochaine ouverture : ",
    hoursToConfirmShort: " (horaires à confirmer)",
    demoNotReal: "Données de démonstration : ce lieu n’est pas réel.",
    slipFooter: "Ne donnez jamais vos mots de passe ni vos codes d’accès, même à un aidant.",
    // helpline (from config)
    helpline: "Besoin d’aide après le rendez-vous ? ",
    // OSM opening hours, e.g. "lun. au ven. 9h à 12h ; sam. 10h à 12h"
    days: Object.freeze({ Mo: "lun.", Tu: "mar.", We: "mer.", Th: "jeu.", Fr: "ven.", Sa: "sam.", Su: "dim." }),
    dayRange: " au ",
    timeRange: " à ",
    hourMark: "h",
    publicHolidays: "jours fériés",
    closed: "fermé",
    listSep: ", ",
    ruleSep: " ; ",
    // date and time on the slip: "lundi 3 juin 2024 à 14:05"
    dateTimeAt: " à ",
    // punctuation between a name and its details
    colon: " : ",
    dash: " – ",
    // a way back to the person, once the referral is made (its own consent)
    contactTitle: "Laisser un moyen de recontacter la personne (facultatif)",
    contactHint: "Seulement si la personne le veut. Le numéro est gardé chiffré ; seul le lieu le voit.",
    contactPhone: "Numéro de téléphone",
    contactFirstName: "Prénom (facultatif)",
    contactConsent: "La personne accepte que le lieu l’appelle ou lui envoie un SMS à ce numéro",
    contactCallback: "Rappelez-moi : le lieu appelle la personne dès sa prochaine ouverture",
    contactSave: "Enregistrer le contact",
    contactSaving: "Enregistrement…",
    contactSavedSms: "Contact enregistré. La personne recevra par SMS les nouvelles de sa demande.",
    contactSavedLandline: "Contact enregistré. C’est un téléphone fixe : le lieu pourra appeler, mais aucun SMS " +
      "ne peut y être envoyé. Pour recevoir les SMS, donnez un numéro de portable (06 ou 07).",
    contactCallbackAt: function (when) { return " Le lieu rappellera la personne à partir du " + when + "."; },
    contactErrors: Object.freeze({
      consentement_manquant: "Cochez la case d’accord de la personne : sans son accord, le numéro n’est pas gardé.",
      telephone_manquant: "Indiquez le numéro de téléphone.",
      telephone_invalide: "Ce numéro n’est pas un numéro de téléphone français valide. Vérifiez-le : " +
        "10 chiffres, par exemple 06 12 34 56 78 ou 02 99 12 34 56.",
      prenom_invalide: "Le prénom est trop long ou contient des chiffres.",
      introuvable: "Cette orientation ne vient pas de cet échange : le contact n’a pas été enregistré.",
      rappel_sans_lieu: "Aucun lieu n’a été choisi : pas de rappel possible. Décochez « Rappelez-moi »."
    }),
    contactFailed: "Le contact n’a pas pu être enregistré. Ce qui est tapé est gardé : réessayez dans un instant."
  });

  var LEVEL_CLASSES = {
    urgence: "level-urgence",
    inclusion: "level-inclusion",
    montee_en_competence: "level-montee"
  };
  var LEVEL_ICONS = { urgence: "!", inclusion: "\u25CF", montee_en_competence: "\u2191" };

  // Custom messages of the desk webhook that are not replies (connectors/desk.py, desk_answer): the
  // person's text as the server kept it, secrets masked; and the erase signal after "stop" / "effacer".
  var TYPED_TYPE = "saisie";
  var ERASE_TYPE = "effacer";

  // spoken: a message of this person is on screen (so "Nouvelle personne" asks before clearing).
  // emergencyText: the sentence that came with the emergency number, for the 115 printed alone.
  var state = { sender: newSenderId(), busy: false, result: null, resultIsNew: false, emergency: null,
    spoken: false, emergencyText: "", emergencyCardOnly: false, contact: null };

  var el = {};
  function $(id) { return document.getElementById(id); }

  function newSenderId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    if (window.crypto && window.crypto.getRandomValues) {
      window.crypto.getRandomValues(bytes);
    } else {
      for (var i = 0; i < 16; i++) { bytes[i] = Math.floor(Math.random() * 256); }
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  /* ---------- small DOM helpers (text only) ---------- */

  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function clear(node) {
    while (node.firstChild) { node.removeChild(node.firstChild); }
  }

  function isNonEmptyString(v) { return typeof v === "string" && v.trim() !== ""; }

  function telHref(phone) {
    return "tel:" + String(phone).replace(/[^0-9+]/g, "");
  }

  function telLink(phone, className) {
    var a = make("a", className || "tel", phone);
    a.href = telHref(phone);
    return a;
  }

  function osmHref(lat, lon) {
    var la = Number(lat), lo = Number(lon);
    return "https://www.openstreetmap.org/?mlat=" + la + "&mlon=" + lo + "#map=17/" + la + "/" + lo;
  }

  function hasCoords(lieu) {
    return lieu && lieu.latitude !== null && lieu.longitude !== null &&
      isFinite(Number(lieu.latitude)) && isFinite(Number(lieu.longitude)) &&
      lieu.latitude !== "" && lieu.longitude !== "";
  }

  // OSM opening hours ("Mo-Fr 09:00-12:00; Sa 10:00-12:00") in French words (see LABELS).
  // Best effort: unknown tokens are left as they are.
  var DAYS = LABELS.days;
  function frenchHours(raw) {
    if (!isNonEmptyString(raw)) { return ""; }
    function time(t) {
      var m = /^(\d{1,2}):(\d{2})$/.exec(t);
      if (!m) { return t; }
      return String(parseInt(m[1], 10)) + LABELS.hourMark + (m[2] === "00" ? "" : m[2]);
    }
    return raw.split(";").map(function (rule) {
      return rule.trim()
        .replace(/\b(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\b/g, function (_, a, b) { return time(a) + LABELS.timeRange + time(b); })
        .replace(/\b(Mo|Tu|We|Th|Fr|Sa|Su)\s*-\s*(Mo|Tu|We|Th|Fr|Sa|Su)\b/g, function (_, a, b) { return DAYS[a] + LABELS.dayRange + DAYS[b]; })
        .replace(/\b(Mo|Tu|We|Th|Fr|Sa|Su)\b/g, function (d) { return DAYS[d]; })
        .replace(/\bPH\b/g, LABELS.publicHolidays)
        .replace(/\boff\b/g, LABELS.closed)
        .replace(/,(?=\S)/g, LABELS.listSep);
    }).filter(function (s) { return s !== ""; }).join(LABELS.ruleSep);
  }

  function formatDistance(km, approximate) {
    var n = Number(km);
    if (km === null || km === undefined || km === "" || !isFinite(n)) { return ""; }
    if (approximate) { return LABELS.distanceApprox(String(Math.max(1, Math.round(n)))); }
    var text = n < 10 ? n.toFixed(1) : String(Math.round(n));
    return LABELS.distance(text.replace(".", LABELS.decimalMark));
  }

  function formatIsoDate(iso) {
    var m = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(iso || ""));
    return m ? m[3] + "/" + m[2] + "/" + m[1] : "";
  }

  // Spell out a reference code for screen readers: "K7M-4XP" -> "K 7 M tiret 4 X P".
  function spokenReference(ref) {
    return String(ref).split("").map(function (c) { return c === "-" ? LABELS.spokenDash : c; }).join(" ");
  }

  function todayLabel() {
    var now = new Date();
    try {
      return now.toLocaleDateString("fr-FR", { weekday: "long", day: "numeric", month: "long", year: "numeric" }) +
        LABELS.dateTimeAt + now.toLocaleTimeString("fr-FR", { hour: "2-digit", minute: "2-digit" });
    } catch (e) {
      return now.toISOString().slice(0, 16).replace("T", " ");
    }
  }

  /* ---------- chat log ---------- */

  function addBubble(who, text) {
    if (who === "user") { state.spoken = true; }
    var item = make("div", "msg msg-" + who);
    var sr = make("span", "visually-hidden", who === "user" ? LABELS.you : LABELS.bot);
    item.appendChild(sr);
    // Keep the server's line breaks without interpreting any markup.
    var body = make("span", "msg-text", text);
    item.appendChild(body);
    el.log.appendChild(item);
    el.log.scrollTop = el.log.scrollHeight;
    return item;
  }

  function showChoices(buttons) {
    clear(el.choicesList);
    if (!buttons.length) {
      el.choices.hidden = true;
      return;
    }
    buttons.forEach(function (b) {
      var btn = make("button", "btn btn-choice", b.title);
      btn.type = "button";
      btn.addEventListener("click", function () {
        if (state.busy) { return; }
        send(b.payload, b.title, btn);
      });
      el.choicesList.appendChild(btn);
    });
    el.choices.hidden = false;
  }

  function setChoicesDisabled(disabled) {
    Array.prototype.forEach.call(el.choicesList.querySelectorAll("button"), function (b) {
      b.disabled = disabled;
    });
  }

  /* ---------- emergency banner ---------- */

  function showEmergency(custom) {
    state.emergency = custom;
    el.emergency.hidden = false; // visible before filling, so the alert is announced
    clear(el.emergency);
    var numero = isNonEmptyString(custom.numero) ? custom.numero : "";
    var title = make("p", "emergency-title");
    title.appendChild(document.createTextNode(LABELS.emergencyCall));
    if (numero) { title.appendChild(telLink(numero, "emergency-number")); }
    el.emergency.appendChild(title);
    if (isNonEmptyString(custom.libelle)) {
      el.emergency.appendChild(make("p", "emergency-text", custom.libelle));
    }
    // The number alone on a small card, to hand over even when no triage follows.
    var print = make("button", "btn btn-secondary emergency-print", LABELS.printEmergency);
    print.type = "button";
    print.addEventListener("click", printEmergencyCard);
    el.emergency.appendChild(print);
    renderSlip();
  }

  function printEmergencyCard() {
    state.emergencyCardOnly = true;
    renderSlip();
    try { window.print(); } finally {
      state.emergencyCardOnly = false;
      renderSlip();
    }
  }

  /* ---------- result card ---------- */

  function listBlock(title, items, className) {
    var wrap = make("div", "block " + (className || ""));
    wrap.appendChild(make("h3", "block-title", title));
    var ul = make("ul", "list");
    items.forEach(function (t) { ul.appendChild(make("li", null, t)); });
    wrap.appendChild(ul);
    return wrap;
  }

  function strings(arr) {
    return Array.isArray(arr) ? arr.filter(isNonEmptyString) : [];
  }

  function levelBadge(r) {
    var key = String(r.niveau || "");
    var badge = make("p", "level " + (LEVEL_CLASSES[key] || "level-other"));
    badge.setAttribute("data-level", key);
    var icon = make("span", "level-icon", LEVEL_ICONS[key] || "\u2022");
    icon.setAttribute("aria-hidden", "true");
    badge.appendChild(icon);
    badge.appendChild(make("span", "level-text", isNonEmptyString(r.niveau_libelle) ? r.niveau_libelle : key));
    return badge;
  }

  function placeBlock(lieu) {
    var wrap = make("div", "block place");
    wrap.appendChild(make("h3", "block-title", LABELS.whereToGo));
    if (lieu.demo) { wrap.appendChild(make("p", "demo-badge demo-inline", LABELS.demo)); }
    wrap.appendChild(make("p", "place-name", lieu.nom || ""));

    var addr = [lieu.adresse, [lieu.code_postal, lieu.commune].filter(isNonEmptyString).join(" ")]
      .filter(isNonEmptyString);
    if (addr.length) {
      var p = make("p", "place-address");
      addr.forEach(function (line, i) {
        if (i) { p.appendChild(document.createElement("br")); }
        p.appendChild(document.createTextNode(line));
      });
      var dist = formatDistance(lieu.distance_km, lieu.position_approximative === true);
      if (dist) { p.appendChild(make("span", "distance", " (" + dist + ")")); }
      wrap.appendChild(p);
    }
    if (lieu.position_approximative === true) {
      wrap.appendChild(make("p", "approx-position", LABELS.approxPosition));
    }
    if (isNonEmptyString(lieu.prochaine_ouverture)) {
      wrap.appendChild(make("p", "next-opening", lieu.prochaine_ouverture));
    }
    if (isNonEmptyString(lieu.horaires)) {
      var h = make("p", "hours");
      h.appendChild(make("span", "field-label", LABELS.hours));
      h.appendChild(document.createTextNode(frenchHours(lieu.horaires)));
      wrap.appendChild(h);
    }
    if (lieu.horaires_a_confirmer) {
      wrap.appendChild(make("p", "to-confirm", LABELS.hoursToConfirm));
    }
    var links = make("p", "place-links");
    if (isNonEmptyString(lieu.telephone)) {
      var phone = make("span", "phone");
      phone.appendChild(make("span", "field-label", LABELS.phone));
      phone.appendChild(telLink(lieu.telephone, "tel"));
      links.appendChild(phone);
    }
    if (hasCoords(lieu)) {
      var map = make("a", "map-link", LABELS.map);
      map.href = osmHref(lieu.latitude, lieu.longitude);
      map.target = "_blank";
      map.rel = "noopener noreferrer";
      links.appendChild(map);
    }
    if (links.childNodes.length) { wrap.appendChild(links); }
    var maj = formatIsoDate(lieu.date_maj);
    if (maj) { wrap.appendChild(make("p", "updated", LABELS.updatedOn + maj)); }
    return wrap;
  }

  function alternativesBlock(alts) {
    var wrap = make("div", "block alternatives");
    wrap.appendChild(make("h3", "block-title", LABELS.otherContacts));
    var ul = make("ul", "list");
    alts.forEach(function (a) {
      var li = make("li");
      li.appendChild(make("span", "alt-name", a.nom || ""));
      if (isNonEmptyString(a.telephone)) {
        li.appendChild(document.createTextNode(LABELS.dash));
        li.appendChild(telLink(a.telephone, "tel"));
      }
      if (isNonEmptyString(a.modalite)) { li.appendChild(make("span", "alt-mode", " (" + a.modalite + ")")); }
      ul.appendChild(li);
    });
    wrap.appendChild(ul);
    return wrap;
  }

  function referenceBlock(ref) {
    var wrap = make("div", "block reference");
    wrap.appendChild(make("h3", "block-title", LABELS.reference));
    // The code as printed for the eyes, and spelled out for screen readers ("K 7 M tiret 4 X P"):
    // an aria-label on a <p> is not exposed, a hidden text is.
    var code = make("p", "reference-code", ref);
    code.setAttribute("aria-hidden", "true");
    wrap.appendChild(code);
    wrap.appendChild(make("p", "reference-spoken visually-hidden", spokenReference(ref)));
    return wrap;
  }

  /* ---------- a way back to the person (phone number, separate consent) ---------- */

  function field(form, id, label, type) {
    form.appendChild(make("label", "label", label)).htmlFor = id;
    var input = make("input", "input");
    input.type = type;
    input.id = id;
    input.autocomplete = "off";
    form.appendChild(input);
    return input;
  }

  function checkbox(form, id, label) {
    var wrap = make("p", "check");
    var box = make("input");
    box.type = "checkbox";
    box.id = id;
    var text = make("label", null, label);
    text.htmlFor = id;
    wrap.appendChild(box);
    wrap.appendChild(text);
    form.appendChild(wrap);
    return box;
  }

  // One form per referral: kept (with what is typed) when the card is drawn again for the same reference.
  function contactForm(reference) {
    if (state.contact && state.contact.reference === reference) { return state.contact.form; }
    var form = make("form", "block contact-form");
    form.id = "contact-form";
    form.noValidate = true;
    form.appendChild(make("h3", "block-title", LABELS.contactTitle));
    form.appendChild(make("p", "hint", LABELS.contactHint));
    var c = { reference: reference, form: form, busy: false };
    c.phone = field(form, "contact-phone", LABELS.contactPhone, "tel");
    c.phone.inputMode = "tel";
    c.firstName = field(form, "contact-first-name", LABELS.contactFirstName, "text");
    c.firstName.maxLength = 40;
    c.consent = checkbox(form, "contact-consent", LABELS.contactConsent);
    c.callback = checkbox(form, "contact-callback", LABELS.contactCallback);
    c.save = make("button", "btn btn-secondary", LABELS.contactSave);
    c.save.type = "submit";
    c.save.id = "contact-save";
    form.appendChild(c.save);
    c.status = make("p", "status");
    c.status.id = "contact-status";
    c.status.setAttribute("role", "status");
    form.appendChild(c.status);
    c.error = make("p", "error");
    c.error.id = "contact-error";
    c.error.setAttribute("role", "alert");
    c.error.hidden = true;
    form.appendChild(c.error);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      saveContact(c);
    });
    state.contact = c;
    return form;
  }

  function contactFailed(c, code, fieldName) {
    var fields = { telephone: c.phone, prenom: c.firstName, consentement: c.consent, rappel: c.callback };
    [c.phone, c.firstName, c.consent, c.callback].forEach(function (f) { f.removeAttribute("aria-invalid"); });
    c.status.textContent = "";
    c.error.textContent = LABELS.contactErrors[code] || LABELS.contactFailed;
    c.error.hidden = false;
    var bad = fields[fieldName];
    if (bad) {
      bad.setAttribute("aria-invalid", "true");
      bad.focus();
    }
  }

  function saveContact(c) {
    if (c.busy) { return; }
    var sender = state.sender;
    c.busy = true;
    c.save.disabled = true;
    c.error.hidden = true;
    c.status.textContent = LABELS.contactSaving;
    fetch(CONTACT_URL, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: sender, reference: c.reference, telephone: c.phone.value,
                             prenom: c.firstName.value, consentement: c.consent.checked,
                             rappel: c.callback.checked }),
      credentials: "same-origin",
      cache: "no-store"
    }).then(function (resp) {
      return resp.json().then(function (body) { return { ok: resp.ok, body: body || {} }; },
                              function () { return { ok: false, body: {} }; });
    }).then(function (answer) {
      if (sender !== state.sender) { return; }
      if (!answer.ok) { contactFailed(c, answer.body.erreur, answer.body.champ); return; }
      [c.phone, c.firstName, c.consent, c.callback].forEach(function (f) { f.removeAttribute("aria-invalid"); });
      var said = answer.body.sms ? LABELS.contactSavedSms : LABELS.contactSavedLandline;
      var when = dateTimeLabel(answer.body.rappel_le);
      c.status.textContent = said + (when ? LABELS.contactCallbackAt(when) : "");
      slipContactLine(answer.body.ligne);
    }).catch(function () {
      if (sender !== state.sender) { return; }
      contactFailed(c, null, null);
    }).then(function () {
      c.busy = false;
      c.save.disabled = false;
    });
  }

  // The slip's contact line, as the server's recap now says it.
  function slipContactLine(line) {
    var r = state.result;
    if (!r || !line || !isNonEmptyString(line.libelle) || !isNonEmptyString(line.texte)) { return; }
    var lines = (Array.isArray(r.recapitulatif) ? r.recapitulatif : []).filter(function (l) {
      return !(l && l.cle === line.cle);
    });
    lines.push(line);
    r.recapitulatif = lines;
    renderSlip();
  }

  // "lundi 7 décembre à 09:00" from an ISO date and time with its offset.
  function dateTimeLabel(iso) {
    if (!isNonEmptyString(iso)) { return ""; }
    var when = new Date(iso);
    if (isNaN(when.getTime())) { return ""; }
    try {
      var options = { timeZone: "Europe/Paris" };
      return when.toLocaleDateString("fr-FR", Object.assign({ weekday: "long", day: "numeric", month: "long" }, options)) +
        LABELS.dateTimeAt + when.toLocaleTimeString("fr-FR", Object.assign({ hour: "2-digit", minute: "2-digit" }, options));
    } catch (e) {
      return iso.slice(0, 16).replace("T", " ");
    }
  }

  function renderCard(r) {
    clear(el.card);
    el.card.appendChild(levelBadge(r));
    var reasons = strings(r.raisons);
    if (reasons.length) { el.card.appendChild(listBlock(LABELS.why, reasons, "reasons")); }
    if (isNonEmptyString(r.prochaine_etape)) {
      var next = make("div", "block next-step");
      next.appendChild(make("h3", "block-title", LABELS.nextStep));
      next.appendChild(make("p", null, r.prochaine_etape));
      el.card.appendChild(next);
    }
    if (isNonEmptyString(r.ensuite)) {
      var then = make("div", "block then-step");
      then.appendChild(make("h3", "block-title", LABELS.thenStep));
      then.appendChild(make("p", null, r.ensuite));
      el.card.appendChild(then);
    }
    if (r.lieu && typeof r.lieu === "object") { el.card.appendChild(placeBlock(r.lieu)); }
    if (isNonEmptyString(r.reference)) {
      el.card.appendChild(referenceBlock(r.reference));
      el.card.appendChild(contactForm(r.reference));
    }
    var bring = strings(r.a_apporter);
    if (bring.length) { el.card.appendChild(listBlock(LABELS.toBring, bring, "bring")); }
    var alts = Array.isArray(r.alternatives) ? r.alternatives.filter(function (a) { return a && typeof a === "object"; }) : [];
    if (alts.length) { el.card.appendChild(alternativesBlock(alts)); }
  }

  function showResult(r) {
    state.result = r;
    state.resultIsNew = true;
    renderCard(r);
    renderSlip();
    el.result.hidden = false;
  }

  /* ---------- printable slip (one A4 page) ---------- */

  function slipLine(parent, label, value, className) {
    if (!isNonEmptyString(value)) { return; }
    var p = make("p", "slip-line " + (className || ""));
    p.appendChild(make("strong", null, label));
    p.appendChild(document.createTextNode(value));
    parent.appendChild(p);
  }

  function slipList(parent, title, items) {
    if (!items.length) { return; }
    parent.appendChild(make("h3", "slip-h", title));
    var ul = make("ul", "slip-list");
    items.forEach(function (t) { ul.appendChild(make("li", null, t)); });
    parent.appendChild(ul);
  }

  function renderSlip() {
    var s = el.slip;
    clear(s);
    s.className = "slip";
    var r = state.result;
    if (!r && !state.emergency) { return; }

    var head = make("header", "slip-header");
    head.appendChild(make("p", "slip-logo", LABELS.appName));
    head.appendChild(make("p", "slip-date", LABELS.slipDate + todayLabel()));
    s.appendChild(head);

    if (state.emergency) {
      var e = make("p", "slip-emergency");
      e.textContent = LABELS.emergencyCall + (state.emergency.numero || "") +
        (isNonEmptyString(state.emergency.libelle) ? LABELS.dash + state.emergency.libelle : "");
      s.appendChild(e);
      if (state.emergencyCardOnly) {
        if (isNonEmptyString(state.emergencyText)) { s.appendChild(make("p", "slip-emergency-text", state.emergencyText)); }
        s.className = "slip slip-emergency-card";
        return;
      }
    }
    if (!r) { return; }

    var lvl = make("p", "slip-level");
    lvl.appendChild(make("strong", null, LABELS.level));
    lvl.appendChild(document.createTextNode(isNonEmptyString(r.niveau_libelle) ? r.niveau_libelle : String(r.niveau || "")));
    s.appendChild(lvl);

    if (isNonEmptyString(r.reference)) {
      var ref = make("p", "slip-reference");
      ref.appendChild(make("span", "slip-ref-label", LABELS.referenceLine));
      ref.appendChild(make("span", "slip-ref-code", r.reference));
      s.appendChild(ref);
      s.appendChild(make("p", "slip-ref-purpose", LABELS.referencePurpose));
    }

    slipList(s, LABELS.yourRequest, recapLines(r));
    slipList(s, LABELS.why, strings(r.raisons));

    if (isNonEmptyString(r.prochaine_etape)) {
      s.appendChild(make("h3", "slip-h", LABELS.nextStep));
      s.appendChild(make("p", "slip-next", r.prochaine_etape));
    }
    if (isNonEmptyString(r.ensuite)) {
      s.appendChild(make("h3", "slip-h", LABELS.thenStep));
      s.appendChild(make("p", "slip-then", r.ensuite));
    }
    var l = r.lieu;
    if (l && typeof l === "object") {
      s.appendChild(make("h3", "slip-h", LABELS.whereToGo));
      var name = make("p", "slip-place", l.nom || "");
      s.appendChild(name);
      var addr = [l.adresse, [l.code_postal, l.commune].filter(isNonEmptyString).join(" ")].filter(isNonEmptyString).join(", ");
      slipLine(s, LABELS.address, addr);
      slipLine(s, LABELS.nextOpening, l.prochaine_ouverture);
      slipLine(s, LABELS.hours, frenchHours(l.horaires) + (l.horaires_a_confirmer ? LABELS.hoursToConfirmShort : ""));
      slipLine(s, LABELS.phone, l.telephone);
      if (l.demo) { s.appendChild(make("p", "slip-demo", LABELS.demoNotReal)); }
    }

    slipList(s, LABELS.toBring, strings(r.a_apporter));
    var alts = Array.isArray(r.alternatives) ? r.alternatives.filter(function (a) { return a && typeof a === "object"; }) : [];
    slipList(s, LABELS.otherContacts, alts.map(function (a) {
      return [a.nom, a.telephone, a.modalite].filter(isNonEmptyString).join(LABELS.dash);
    }).filter(isNonEmptyString));
    s.appendChild(make("p", "slip-footer", LABELS.slipFooter));
    s.className = "slip " + slipDensity(r, alts);
  }

  // The request in words, from the server's recap (the same as the mediator's): "Démarche : la déclaration…".
  function recapLines(r) {
    var lines = Array.isArray(r.recapitulatif) ? r.recapitulatif : [];
    return lines.filter(function (l) { return l && isNonEmptyString(l.libelle) && isNonEmptyString(l.texte); })
      .map(function (l) { return l.libelle + LABELS.colon + l.texte; });
  }

  // Print can't be measured from script, so estimate the variable text's lines and shrink
  // the type on long cards to keep the slip on one A4 page (thresholds checked by tests).
  function slipDensity(r, alts) {
    function lines(t) { return Math.max(1, Math.ceil(String(t).length / 75)); }
    var load = state.emergency ? 2 : 0;
    strings(r.raisons).concat(strings(r.a_apporter), recapLines(r)).forEach(function (t) { load += lines(t); });
    alts.forEach(function (a) { load += lines([a.nom, a.telephone, a.modalite].join(LABELS.dash)); });
    if (isNonEmptyString(r.prochaine_etape)) { load += lines(r.prochaine_etape); }
    if (isNonEmptyString(r.ensuite)) { load += lines(r.ensuite); }
    if (isNonEmptyString(r.reference)) { load += 1; }  // what the code is for
    // Each block's heading takes a line and its margins.
    [recapLines(r), strings(r.raisons), strings(r.a_apporter), alts].forEach(function (b) { if (b.length) { load += 1; } });
    [r.prochaine_etape, r.ensuite].forEach(function (t) { if (isNonEmptyString(t)) { load += 1; } });
    if (load <= SLIP_NORMAL_MAX) { return ""; }
    return load <= SLIP_COMPACT_MAX ? "slip-compact" : "slip-dense";
  }

  /* ---------- server exchange ---------- */

  // The first custom message of `type` in the answer, or null (an older server sends none).
  function customOf(messages, type) {
    var found = null;
    (Array.isArray(messages) ? messages : []).some(function (m) {
      var c = m && typeof m === "object" ? m.custom : null;
      if (c && typeof c === "object" && c.type === type) { found = c; }
      return found !== null;
    });
    return found;
  }

  function handleMessages(messages) {
    var buttons = [];
    var lastBotText = "";
    (Array.isArray(messages) ? messages : []).forEach(function (m) {
      if (!m || typeof m !== "object") { return; }
      if (isNonEmptyString(m.text)) { addBubble("bot", m.text); lastBotText = m.text; }
      if (Array.isArray(m.buttons)) {
        m.buttons.forEach(function (b) {
          if (b && isNonEmptyString(b.title) && typeof b.payload === "string") {
            buttons.push({ title: b.title, payload: b.payload });
          }
        });
      }
      var c = m.custom;
      if (c && typeof c === "object") {
        if (c.type === "resultat") { showResult(c); }
        else if (c.type === "urgence_vitale") { state.emergencyText = lastBotText; showEmergency(c); }
      }
    });
    showChoices(buttons);
  }

  function setBusy(busy) {
    state.busy = busy;
    el.send.disabled = busy;
    setChoicesDisabled(busy);
    el.log.setAttribute("aria-busy", busy ? "true" : "false");
    el.status.textContent = busy ? LABELS.sending : "";
  }

  function showError(text) {
    el.error.textContent = text;
    el.error.hidden = false;
  }

  function hideError() {
    el.error.hidden = true;
    el.error.textContent = "";
  }

  // An answer the server explained (its French text), as opposed to a network or server failure.
  function ServerSaid(text) { this.text = text; }

  // message: what the server gets (text or button payload); shown: what the user bubble says.
  function send(message, shown, sourceButton) {
    if (state.busy || !isNonEmptyString(message)) { return; }
    var sender = state.sender;
    var fromInput = shown === undefined;
    hideError();
    setBusy(true);

    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS) : null;

    fetch(WEBHOOK_URL, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: sender, message: message, metadata: { channel: "desk" } }),
      signal: controller ? controller.signal : undefined,
      credentials: "same-origin",
      cache: "no-store"
    }).then(function (resp) {
      if (resp.status === 429) {
        // Too many messages at once: the server says why; the typed text stays in the box.
        return resp.json().then(function (body) { throw new ServerSaid(body && body.erreur); },
                                function () { throw new ServerSaid(null); });
      }
      if (!resp.ok) { throw new Error("HTTP " + resp.status); }
      return resp.json();
    }).then(function (messages) {
      // The desk moved on to a new person while we waited: drop the stale answer.
      if (sender !== state.sender) { return; }
      if (fromInput) { el.input.value = ""; }
      if (customOf(messages, ERASE_TYPE)) {
        // "stop" / "effacer": the server erased the conversation, the screen follows. Only the
        // bot's confirmation stays, so the person sees it was done; what follows is a new conversation.
        resetScreen();
        handleMessages(messages);
        el.input.focus();
        return;
      }
      // The person's text as the server kept it (a password or a NIR masked), never as typed.
      var kept = customOf(messages, TYPED_TYPE);
      addBubble("user", !fromInput ? shown : kept && typeof kept.texte === "string" ? kept.texte : message);
      handleMessages(messages);
      setBusy(false);
      var pending = !el.choices.hidden;
      if (state.resultIsNew && !pending) {
        // Move to the result once the exchange is over (no question pending), so screen readers
        // reach it; while a question is pending (consent), focus stays in the conversation.
        state.resultIsNew = false;
        el.resultTitle.focus();
      } else if (fromInput || !pending) {
        el.input.focus();
      } else {
        // The clicked choice is gone: continue on the first new choice.
        el.choicesList.querySelector("button").focus();
      }
    }).catch(function (error) {
      if (sender !== state.sender) { return; }
      setBusy(false);
      showError(error instanceof ServerSaid && isNonEmptyString(error.text) ? error.text : LABELS.serverDown);
      if (fromInput) { el.input.focus(); }
      else if (sourceButton && sourceButton.isConnected) { sourceButton.focus(); }
    }).then(function () {
      if (timer) { clearTimeout(timer); }
    });
  }

  // Everything of the current person leaves the screen; what follows is a new conversation.
  function resetScreen() {
    state.sender = newSenderId();
    state.result = null;
    state.emergency = null;
    state.emergencyText = "";
    state.resultIsNew = false;
    state.spoken = false;
    state.contact = null;
    setBusy(false);
    clear(el.log);
    clear(el.card);
    clear(el.slip);
    clear(el.emergency);
    showChoices([]);
    el.emergency.hidden = true;
    el.result.hidden = true;
    el.input.value = "";
    hideError();
  }

  function newPerson() {
    resetScreen();
    el.input.focus();
  }

  // "Nouvelle personne" asks first when a conversation is on screen or under way; Escape or
  // "Annuler" closes the dialog and gives the focus back to the button.
  function askNewPerson() {
    if (!(state.spoken || state.busy) || typeof el.confirmNew.showModal !== "function") {
      newPerson();
      return;
    }
    el.confirmNew.returnValue = "";
    el.confirmNew.showModal();
    el.confirmNo.focus();
  }

  function confirmClosed() {
    if (el.confirmNew.returnValue === "oui") { newPerson(); }
    else { el.newPerson.focus(); }
  }

  function loadConfig() {
    fetch(CONFIG_URL, { cache: "no-store", credentials: "same-origin" })
      .then(function (resp) { return resp.ok ? resp.json() : null; })
      .then(function (cfg) {
        if (!cfg || typeof cfg !== "object") { return; }
        el.demoBanner.hidden = cfg.demo !== true;
        var h = cfg.helpline;
        if (h && typeof h === "object" && (isNonEmptyString(h.nom) || isNonEmptyString(h.telephone))) {
          clear(el.helpline);
          el.helpline.appendChild(document.createTextNode(LABELS.helpline));
          if (isNonEmptyString(h.nom)) { el.helpline.appendChild(make("strong", null, h.nom)); }
          if (isNonEmptyString(h.telephone)) {
            el.helpline.appendChild(document.createTextNode(LABELS.colon));
            el.helpline.appendChild(telLink(h.telephone, "tel"));
          }
          el.helpline.hidden = false;
        }
      })
      .catch(function () { /* config is optional: the page works without it */ });
  }

  function init() {
    el.log = $("log");
    el.form = $("composer");
    el.input = $("message");
    el.send = $("send");
    el.status = $("status");
    el.error = $("error");
    el.choices = $("choices");
    el.choicesList = $("choices-list");
    el.result = $("result");
    el.resultTitle = $("result-title");
    el.card = $("card");
    el.slip = $("slip");
    el.emergency = $("emergency");
    el.demoBanner = $("demo-banner");
    el.helpline = $("helpline");
    el.newPerson = $("new-person");
    el.confirmNew = $("confirm-new");
    el.confirmNo = $("confirm-new-no");

    el.form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      send(el.input.value.trim());
    });
    el.newPerson.addEventListener("click", askNewPerson);
    $("confirm-new-yes").addEventListener("click", function () { el.confirmNew.close("oui"); });
    el.confirmNo.addEventListener("click", function () { el.confirmNew.close("non"); });
    el.confirmNew.addEventListener("close", confirmClosed);
    $("print").addEventListener("click", function () { window.print(); });
    // Re-stamp the date if the slip is printed later than it was built.
    window.addEventListener("beforeprint", renderSlip);

    loadConfig();
    el.input.focus();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
