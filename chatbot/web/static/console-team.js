/* Working together: a conversation's private notes (staff only, never shown to the visitor), the transfer form,
 * and the supervisors' board of who holds what. */

import { el, request } from "./common.js";
import { errorText, visitorLabel } from "./console-view.js";

/** The notes box of one tab: the notes so far and a form to add one. */
export function NotesBox(tab) {
  var self = this;
  this.tab = tab;
  this.ids = {};
  this.list = el("ul", { class: "notes-list" });
  this.input = el("textarea", { "aria-label": "Private note", maxlength: "2000", rows: "2",
    placeholder: "Only staff see notes" });
  this.form = el("form", { onsubmit: function (e) { e.preventDefault(); self.submit(); } },
    [this.input, el("button", { type: "submit", text: "Add note" })]);
  this.node = el("details", { class: "assist notes" }, [el("summary", { text: "Private notes" }), this.list, this.form]);
}

NotesBox.prototype.load = function (notes) {
  var self = this;
  (notes || []).forEach(function (n) { self.add(n); });
};

NotesBox.prototype.add = function (n) {
  if (this.ids[n.id]) return;
  this.ids[n.id] = true;
  this.list.appendChild(el("li", {}, [el("span", { class: "who", text: n.author.name }), el("p", { text: n.text })]));
  this.node.open = true;
};

NotesBox.prototype.submit = function () {
  var self = this, text = this.input.value.trim();
  if (!text) return;
  request(this.tab.desk.socket, "note", { conversation_id: this.tab.id, text: text }, function (err, ack) {
    if (err || !ack.ok) return self.tab.desk.warn(errorText(err, ack));
    self.input.value = "";
    self.add(ack.note);
  });
};

/** The transfer form of one tab: whom to (the representatives online now) and a handover note. */
export function transferForm(tab) {
  var desk = tab.desk, select = el("select", { "aria-label": "Transfer to" }), note = el("input", {
    "aria-label": "Handover note", maxlength: "2000", placeholder: "Note for them (optional)" });
  var form = el("form", { class: "transfer", onsubmit: function (e) {
    e.preventDefault();
    var body = { conversation_id: tab.id, to: select.value };
    if (note.value.trim()) body.note = note.value.trim();
    request(desk.socket, "transfer", body, function (err, ack) {
      if (err || !ack.ok) return desk.warn(errorText(err, ack));
      form.remove();
      tab.describe(ack.conversation);
    });
  } }, [select, note, el("button", { type: "submit", class: "primary", text: "Transfer" })]);
  request(desk.socket, "representatives", {}, function (err, ack) {
    if (err || !ack.ok) return desk.warn(errorText(err, ack));
    var others = ack.representatives.filter(function (r) { return !tab.summary.agent || r.id !== tab.summary.agent.id; });
    select.replaceChildren.apply(select, others.map(function (r) { return el("option", { value: r.id, text: r.name }); }));
  });
  return form;
}

/** The supervisors' board: each representative online or holding, and what they hold. */
export function showHolders(desk) {
  var board = desk.$("holders");
  if (!desk.me || desk.me.role === "agent" || !desk.socket) return;
  request(desk.socket, "holders", {}, function (err, ack) {
    if (err || !ack.ok) return;
    desk.$("holders-section").hidden = false;
    board.replaceChildren.apply(board, ack.representatives.map(function (r) {
      var held = r.conversations.map(function (s) { return visitorLabel(s); }).join(", ") || "nothing";
      return el("li", {}, [el("strong", { text: r.name }), " " + (r.online ? "online" : "offline") + " · holds " + held]);
    }));
  });
}
