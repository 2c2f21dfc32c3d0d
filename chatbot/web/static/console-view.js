/* The console's small pieces: conversation cards, wait times, the new-visitor alert. */

import { el } from "./common.js";

export var REASONS = {
  low_confidence: "Bot unsure", requested: "Asked for a person", urgent: "Urgent", released: "Released",
  after_hours: "After hours", takeover: "Taken over", assigned: "Assigned", handback: "Back with the bot",
  created: "New", idle: "Idle", closed_by_visitor: "Closed by visitor", closed_by_agent: "Closed by representative"
};

var ERRORS = {
  taken: "Someone else has already taken this conversation.",
  at_capacity: "You already hold as many conversations as you may; release or close one first.",
  closed: "This conversation has ended.",
  not_found: "That conversation no longer exists.",
  not_assigned: "You do not hold this conversation (any more).",
  offer_expired: "That offer has expired or gone to someone else."
};

/** The message for a failed ack (or a timeout, when there is no ack). */
export function errorText(err, ack) {
  if (err || !ack) return "The server did not answer in time; check the connection and try again.";
  return ERRORS[ack.error.code] || ack.error.message;
}

/** "45 s", "3 min", "1 h 05 min": how long since an ISO-8601 time. */
function elapsed(iso) {
  var seconds = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  if (seconds < 60) return seconds + " s";
  var minutes = Math.floor(seconds / 60);
  if (minutes < 60) return minutes + " min";
  var rest = minutes % 60;
  return Math.floor(minutes / 60) + " h " + (rest < 10 ? "0" : "") + rest + " min";
}

/** Refresh every "waiting 3 min" label in the page from its data-since time. */
export function tickWaits() {
  document.querySelectorAll("[data-since]").forEach(function (node) {
    node.textContent = "waiting " + elapsed(node.getAttribute("data-since"));
  });
}

export function visitorLabel(summary) {
  return summary.name || (summary.contact && summary.contact.name) || "Visitor " + summary.id.slice(0, 6);
}

export function contactLine(contact) {
  if (!contact) return null;
  var parts = [contact.name, contact.email, contact.phone].filter(Boolean);
  return el("p", { class: "meta", text: "Contact: " + parts.join(" · ") });
}

/** A conversation in a list (queue or others), with its action buttons [label, handler, primary?]. */
export function summaryCard(summary, buttons) {
  var last = summary.last_message && summary.last_message.sender !== "system" ? summary.last_message : null;
  var said = last && ({ visitor: "Visitor", bot: "Bot" }[last.sender] || (last.agent && last.agent.name) || "Representative");
  return el("li", { class: summary.reason === "urgent" ? "urgent" : null, "data-id": summary.id }, [
    el("div", { class: "row" }, [
      el("span", { class: "name", text: visitorLabel(summary) }),
      el("span", { class: "tag", text: summary.lang }),
      summary.reason ? el("span", { class: "tag" + (summary.reason === "urgent" ? " urgent" : ""),
        text: REASONS[summary.reason] || summary.reason }) : null,
      summary.waiting_since ? el("span", { class: "wait", "data-since": summary.waiting_since,
        text: "waiting " + elapsed(summary.waiting_since) }) : null,
      summary.agent ? el("span", { class: "wait", text: "with " + summary.agent.name }) : null
    ]),
    last ? el("p", { class: "last", text: said + ": " + last.text }) : null,
    summary.page ? el("p", { class: "meta", text: "Page: " + summary.page }) : null,
    contactLine(summary.contact),
    el("div", { class: "buttons" }, buttons.map(function (b) {
      return el("button", { type: "button", class: b[2] ? "primary small" : "small", text: b[0], onclick: b[1],
        "aria-label": b[0] + " — " + visitorLabel(summary) });
    }))
  ]);
}

/** A short beep and, when allowed and the tab is in the background, a desktop notification. */
export function Alerter() {
  this.audio = null;
}

/** Call from a click: browsers only let a page make sound or ask for notifications after a gesture. */
Alerter.prototype.unlock = function () {
  var Context = window.AudioContext || window.webkitAudioContext;
  if (!this.audio && Context) this.audio = new Context();
  if (this.audio && this.audio.state === "suspended") this.audio.resume();
  if (window.Notification && Notification.permission === "default") Notification.requestPermission();
};

Alerter.prototype.alert = function (text) {
  if (this.audio && this.audio.state === "running") {
    var oscillator = this.audio.createOscillator(), gain = this.audio.createGain(), now = this.audio.currentTime;
    oscillator.frequency.value = 880;
    gain.gain.setValueAtTime(0.15, now);
    gain.gain.exponentialRampToValueAtTime(0.001, now + 0.4);
    oscillator.connect(gain).connect(this.audio.destination);
    oscillator.start(now);
    oscillator.stop(now + 0.4);
  }
  if (window.Notification && Notification.permission === "granted" && document.hidden) {
    new Notification("Clinic chat", { body: text, tag: "chat-queue" });
  }
};
