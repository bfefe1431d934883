// Live conversation page: fetch new messages every few seconds and append them.
// Text is only ever set with textContent, never parsed as HTML.
(function () {
  "use strict";
  var list = document.getElementById("fil");
  if (!list) { return; }
  var source = list.getAttribute("data-source");
  var after = parseInt(list.getAttribute("data-apres") || "0", 10);
  var stopped = false;

  function line(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    node.textContent = text;
    return node;
  }

  function add(message) {
    if (message.id <= after) { return; }
    after = message.id;
    var item = document.createElement("li");
    item.className = "msg msg-" + message.de;
    item.setAttribute("data-id", String(message.id));
    var meta = message.heure + " — " + message.auteur + (message.etat ? " — " + message.etat : "");
    if (message.erreur) { meta += " — " + message.erreur; }
    item.appendChild(line("p", "meta", meta));
    item.appendChild(line("p", "texte", message.texte));
    list.appendChild(item);
  }

  function ended() {
    stopped = true;
    var state = document.getElementById("direct-etat");
    if (state) { state.textContent = "Discussion terminée : l'assistant automatique a repris."; }
    var form = document.getElementById("form-message");
    if (form) {
      Array.prototype.forEach.call(form.querySelectorAll("textarea, button"), function (el) { el.disabled = true; });
    }
  }

  function poll() {
    if (stopped) { return; }
    fetch(source + "?apres=" + after, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        data.messages.forEach(add);
        if (!data.actif) { ended(); }
      })
      .catch(function () { /* network hiccup: next poll */ })
      .then(function () { if (!stopped) { window.setTimeout(poll, 3000); } });
  }

  window.setTimeout(poll, 3000);
}());
