/* One conversation the representative holds or watches: a tab, its transcript, agent assist, canned answers. */

import { clockTime, el, newId, request } from "./common.js";
import { REASONS, contactLine, errorText, visitorLabel } from "./console-view.js";
import { NotesBox, transferForm } from "./console-team.js";

export function Tab(desk, summary) {
  this.desk = desk;
  this.id = summary.id;
  this.summary = summary;
  this.nodes = {};           // message id -> <li>
  this.pending = {};         // client_id -> <li> of a message not acked yet
  this.lastVisitorMessage = null;
  this.typingSent = false;
  this.build();
}

Tab.prototype.build = function () {
  var self = this, panelId = "panel-" + this.id;
  this.button = el("button", { type: "button", role: "tab", id: "tab-" + this.id, "aria-controls": panelId,
    "aria-selected": "false", onclick: function () { self.desk.select(self.id); } });
  this.heading = el("strong");
  this.stateLine = el("span", { class: "state", role: "status" });  // "Closed", "You hold this…" are read out
  this.details = el("div");
  this.actions = el("div", { class: "actions" });
  // The log role (read out as messages arrive) wraps the list, so the messages stay list items (axe: listitem).
  this.log = el("ol", { class: "messages" });
  this.history = el("div", { class: "log", role: "log", "aria-label": "Transcript", tabindex: "0" }, [this.log]);
  this.typing = el("p", { class: "typing", "aria-live": "polite" });
  this.suggestions = el("ul", { class: "suggestions" });
  this.assist = el("section", { class: "assist", hidden: true }, [el("h3", { text: "Suggested answers" }), this.suggestions]);
  this.leads = el("ul", { class: "leads" });
  this.leadBox = el("section", { class: "assist", hidden: true }, [el("h3", { text: "Forms the visitor sent" }), this.leads]);
  this.input = el("textarea", { "aria-label": "Your reply", maxlength: "2000", placeholder: "Type a reply…",
    oninput: function () { self.typed(); },
    onkeydown: function (e) { if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); self.submit(); } } });
  this.composer = el("form", { class: "composer", onsubmit: function (e) { e.preventDefault(); self.submit(); } },
    [this.input, el("button", { type: "submit", class: "primary", text: "Send" })]);
  this.panel = el("section", { class: "conversation", role: "tabpanel", id: panelId, "aria-labelledby": "tab-" + this.id,
    hidden: true }, [
    el("header", {}, [el("div", { class: "title" }, [this.heading, this.stateLine, this.actions]), this.details]),
    this.leadBox, this.history, this.typing, this.assist, this.cannedBox(), (this.notes = new NotesBox(this)).node,
    this.composer
  ]);
  this.describe(this.summary);
};

/** Canned answers from the intents, searchable by intent name or words; a click puts one in the reply box. */
Tab.prototype.cannedBox = function () {
  var self = this;
  this.cannedList = el("ul", { class: "canned-list" });
  this.cannedSearch = el("input", { type: "search", "aria-label": "Search canned answers", placeholder: "Search…",
    oninput: function () { self.showCanned(); } });
  return el("details", { class: "assist canned", ontoggle: function () { self.showCanned(); } },
    [el("summary", { text: "Canned answers" }), this.cannedSearch, this.cannedList]);
};

Tab.prototype.showCanned = function () {
  var self = this, words = fold(this.cannedSearch.value).split(/\s+/).filter(Boolean);
  var matches = this.desk.canned.filter(function (answer) {
    var haystack = fold(answer.intent + " " + answer.text);
    return answer.lang === self.summary.lang && words.every(function (w) { return haystack.indexOf(w) >= 0; });
  });
  this.cannedList.replaceChildren.apply(this.cannedList, matches.slice(0, 20).map(function (answer) {
    return el("li", {}, [el("button", { type: "button", onclick: function () { self.input.value = answer.text; self.input.focus(); } },
      [el("span", { class: "intent", text: answer.intent }), answer.text])]);
  }));
};

function fold(text) {
  return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

/** The header: who, language, page, contact, state, and the buttons that fit the state. */
Tab.prototype.describe = function (summary) {
  this.summary = summary;
  var self = this, mine = this.holding();  // of the new summary: a closed conversation is nobody's to release
  this.heading.textContent = visitorLabel(summary);
  this.button.textContent = visitorLabel(summary);
  var state = summary.state === "agent" && summary.agent ? (mine ? "You hold this conversation" : "With " + summary.agent.name)
    : { bot: "With the bot", queued: "Waiting in the queue", closed: "Closed" }[summary.state] || summary.state;
  this.stateLine.textContent = "· " + state;
  this.details.replaceChildren(
    el("p", { text: "Language: " + summary.lang + (summary.reason ? " · Reason: " + (REASONS[summary.reason] || summary.reason) : "") }),
    summary.page ? el("p", { text: "Page: " + summary.page }) : "",
    contactLine(summary.contact) || "");
  var buttons = [];
  if (summary.state === "bot" || summary.state === "queued") buttons.push(["Take", function () { self.desk.take(self.id); }, true]);
  if (mine) buttons.push(["Release", function () { self.act("release"); }]);
  if (summary.state === "agent" && (mine || (this.desk.me && this.desk.me.role !== "agent"))) {
    buttons.push(["Transfer…", function () { self.actions.after(transferForm(self)); }]);
  }
  if (summary.state !== "closed" && (mine || summary.state !== "agent")) buttons.push(["Close conversation", function () { self.act("close"); }, false, true]);
  if (!mine) buttons.push([summary.state === "closed" ? "Close tab" : "Stop watching", function () { self.desk.dismiss(self.id); }]);
  var hadFocus = this.actions.contains(document.activeElement);
  this.actions.replaceChildren.apply(this.actions, buttons.map(function (b) {
    return el("button", { type: "button", class: b[2] ? "primary" : b[3] ? "danger" : null, text: b[0], onclick: b[1] });
  }));
  if (hadFocus && this.actions.firstChild) this.actions.firstChild.focus();  // the pressed button is gone: never drop focus
  this.composer.hidden = !mine;
  if (!mine) this.assist.hidden = true;
};

Tab.prototype.holding = function () {
  var s = this.summary, me = this.desk.me;
  return s.state === "agent" && !!s.agent && !!me && s.agent.id === me.id;
};

/** A `watch` or `take` ack: the summary with the whole history. */
Tab.prototype.load = function (conversation) {
  var self = this;
  conversation.messages.forEach(function (m) { self.add(m); });
  this.notes.load(conversation.notes);
  (conversation.leads || []).forEach(function (lead) { self.addLead(lead); });
  this.describe(conversation);
};

/** A form the visitor sent (a lead): which form, when, each value, and the consent text they agreed to. */
Tab.prototype.addLead = function (lead) {
  if (this.leads.querySelector('[data-id="' + lead.id + '"]')) return;
  var values = Object.keys(lead.values).map(function (name) {
    var value = lead.values[name];
    return el("li", { text: name + ": " + (value === true ? "yes" : value === false ? "no" : value) });
  });
  this.leads.appendChild(el("li", { "data-id": lead.id }, [
    el("strong", { text: lead.form_id }), " ", el("time", { datetime: lead.created_at, text: clockTime(lead.created_at) }),
    el("ul", {}, values),
    el("p", { class: "meta", text: "Agreed to: " + lead.consent_text })
  ]));
  this.leadBox.hidden = false;
};

Tab.prototype.add = function (m) {
  if (this.nodes[m.id]) return;
  var who = { visitor: "Visitor", bot: "Bot", agent: m.agent ? m.agent.name : "Representative" }[m.sender];
  var node = el("li", { class: "msg msg-" + m.sender, "data-id": m.id }, [
    who ? el("span", { class: "who", text: who }) : null,
    el("p", { class: "text", text: m.text }),
    el("time", { datetime: m.created_at, text: clockTime(m.created_at) })]);
  var pending = m.client_id && this.pending[m.client_id];
  if (pending) { this.log.replaceChild(node, pending); delete this.pending[m.client_id]; }
  else this.log.appendChild(node);
  this.nodes[m.id] = node;
  if (m.sender === "visitor") { this.lastVisitorMessage = m.id; this.typing.textContent = ""; }
  this.history.scrollTop = this.history.scrollHeight;
  if (m.sender === "visitor" && !this.selected()) this.button.appendChild(el("span", { class: "dot", "aria-label": "new message" }));
};

Tab.prototype.addNote = function (n) {
  this.notes.add(n);
};

Tab.prototype.applyState = function (s) {
  var summary = Object.assign({}, this.summary, { state: s.state, reason: s.reason || this.summary.reason });
  if (s.state === "agent") summary.agent = s.agent || this.summary.agent;
  else if (s.state !== "closed") summary.agent = null;
  this.describe(summary);
  if (s.state === "closed") this.typing.textContent = "";
};

Tab.prototype.visitorTyping = function (e) {
  clearTimeout(this.typingTimeout);
  this.typing.textContent = e.typing ? visitorLabel(this.summary) + " is typing…" : "";
  if (e.typing) this.typingTimeout = setTimeout(function (t) { t.textContent = ""; }, 10000, this.typing);
};

/** Agent assist: the approved answers for the latest visitor message (a click sends one) and, when the bot was
 * unsure, the site's passages that match it (a click puts one in the reply box, to edit; its link is shown). */
Tab.prototype.showSuggestions = function (e) {
  if (e.message_id !== this.lastVisitorMessage && this.lastVisitorMessage !== null) return;
  var self = this;
  var answers = e.suggestions.map(function (s) {
    var label = el("span", { class: "intent", text: s.intent + " " + Math.round(s.confidence * 100) + "%" });
    return el("li", {}, [el("button", { type: "button", title: s.text, onclick: function () { self.send(s.text); } },
      [el("span", { class: "snippet" }, [label, s.text])])]);
  });
  var passages = (e.passages || []).map(function (p) {
    var pick = function () { self.input.value = p.text; self.input.focus(); };
    return el("li", { class: "passage" }, [el("button", { type: "button", title: p.text, onclick: pick },
      [el("span", { class: "snippet" }, [el("span", { class: "intent", text: p.heading }), p.text])]),
      el("span", { class: "source", text: p.link })]);
  });
  this.suggestions.replaceChildren.apply(this.suggestions, answers.concat(passages));
  this.assist.hidden = !(answers.length + passages.length) || !this.holding();
};

Tab.prototype.submit = function () {
  var text = this.input.value.trim();
  if (!text) return;
  this.input.value = "";
  this.send(text);
};

Tab.prototype.send = function (text) {
  var self = this, clientId = newId();
  var node = el("li", { class: "msg msg-agent pending" }, [el("p", { class: "text", text: text }),
    el("span", { class: "status", text: "Sending…" })]);
  this.pending[clientId] = node;
  this.log.appendChild(node);
  this.history.scrollTop = this.history.scrollHeight;
  this.stopTyping();
  var body = { conversation_id: this.id, text: text, client_id: clientId };
  request(this.desk.socket, "message", body, function (err, ack) {
    if (!err && ack.ok) return self.add(ack.message);
    node.classList.replace("pending", "failed");
    node.querySelector(".status").textContent = "Not sent: " + errorText(err, ack);
  });
};

Tab.prototype.act = function (event) {
  var self = this;
  request(this.desk.socket, event, { conversation_id: this.id }, function (err, ack) {
    if (err || !ack.ok) self.desk.warn(errorText(err, ack));
  });
};

Tab.prototype.typed = function () {
  if (!this.holding()) return;
  if (!this.typingSent) this.desk.socket.emit("typing", { conversation_id: this.id, typing: true });
  this.typingSent = true;
  clearTimeout(this.typingTimer);
  this.typingTimer = setTimeout(this.stopTyping.bind(this), 3000);
};

Tab.prototype.stopTyping = function () {
  clearTimeout(this.typingTimer);
  if (!this.typingSent) return;
  this.typingSent = false;
  this.desk.socket.emit("typing", { conversation_id: this.id, typing: false });
};

Tab.prototype.selected = function () {
  return this.button.getAttribute("aria-selected") === "true";
};

Tab.prototype.select = function (on) {
  this.button.setAttribute("aria-selected", on ? "true" : "false");
  this.panel.hidden = !on;
  if (on) {
    var dot = this.button.querySelector(".dot");
    if (dot) dot.remove();
  }
};
