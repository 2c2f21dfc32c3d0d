/* The widget's DOM: built once inside a shadow root, so the host page's styles and ours never meet.
 * Only this file creates nodes; widget.js decides what they show. */

import STYLES from "./widget.css";
import { clockTime, el } from "./common.js";

/** The shadow host and every node the widget talks to, wired to the widget's methods. */
export function buildView(widget, t) {
  var host = el("div", { "data-clinic-chat": "" });
  var root = host.attachShadow({ mode: "open" });
  adoptStyles(root, STYLES);
  var v = { host: host, root: root };
  v.badge = el("span", { class: "badge", "aria-hidden": "true", hidden: true });
  v.launcher = el("button", {
    class: "launcher", type: "button", "aria-expanded": "false", "aria-controls": "chat-panel",
    "aria-label": t.open, onclick: function () { widget.open(true); }
  }, [el("span", { class: "bubble", "aria-hidden": "true" }), el("span", { text: t.open }), v.badge]);
  v.subtitle = el("p", { class: "subtitle", id: "chat-subtitle", text: t.withBot });
  v.end = el("button", { class: "end", type: "button", text: t.end,
    onclick: function () { widget.end(); } });
  v.minimize = el("button", { class: "minimize", type: "button", "aria-label": t.minimize, text: "×",
    onclick: function () { widget.minimize(); } });
  v.notice = el("p", { class: "notice", role: "status", hidden: true });
  v.welcome = el("li", { class: "welcome", text: t.welcome });
  // The log role (a live region: screen readers read out each message added) wraps the list, so the messages
  // stay list items of a list; a list with the log role would have none (axe: listitem).
  v.log = el("ol", { class: "messages" }, [v.welcome]);
  v.history = el("div", { class: "log", role: "log", "aria-label": t.log, tabindex: "0" }, [v.log]);
  v.typing = el("p", { class: "typing", "aria-live": "polite", hidden: true });
  v.chips = el("div", { class: "chips", role: "group", "aria-label": t.suggested, hidden: true });
  v.offer = el("button", { class: "link", type: "button", text: t.leaveContact, hidden: true,
    onclick: function () { widget.showContactForm(); } });
  v.contact = contactForm(widget, t, v);
  v.rating = ratingForm(widget, t, v);
  v.rated = el("p", { class: "rated", role: "status" });
  v.closed = el("div", { class: "closed", hidden: true }, [
    el("p", { text: t.closed }), v.rating, v.rated,
    v.startNew = el("button", { class: "primary", type: "button", text: t.startNew, onclick: function () { widget.startNew(); } })
  ]);
  v.composer = composer(widget, t, v);
  v.panel = el("section", {
    class: "panel", id: "chat-panel", role: "dialog", "aria-labelledby": "chat-title",
    "aria-describedby": "chat-subtitle", hidden: true,
    onkeydown: function (event) { if (event.key === "Escape") widget.minimize(); }
  }, [
    el("header", {}, [el("div", { class: "heading" }, [el("h2", { id: "chat-title", text: t.title }), v.subtitle]),
      v.end, v.minimize]),
    v.notice, v.offer, v.history, v.typing, v.chips, v.contact, v.closed, v.composer
  ]);
  root.appendChild(v.launcher);
  root.appendChild(v.panel);
  return v;
}

/** Constructable stylesheets where supported (no inline <style>, so strict CSPs stay happy); a <style> otherwise. */
function adoptStyles(root, css) {
  if ("adoptedStyleSheets" in root && typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype) {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } else {
    root.appendChild(el("style", { text: css }));
  }
}

function composer(widget, t, v) {
  v.input = el("textarea", {
    id: "chat-input", rows: "1", maxlength: "2000", placeholder: t.placeholder, autocomplete: "off",
    oninput: function () { widget.typed(); },
    onkeydown: function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        widget.submit();
      }
    }
  });
  return el("form", { class: "composer", onsubmit: function (event) { event.preventDefault(); widget.submit(); } }, [
    el("label", { class: "sr-only", for: "chat-input", text: t.inputLabel }),
    v.input,
    el("button", { class: "send primary", type: "submit", text: t.send })
  ]);
}

/** After a conversation a representative took part in: a score from 1 to 5 and an optional comment. */
function ratingForm(widget, t, v) {
  v.rateLegend = el("legend");
  v.scores = t.scores.map(function (label, i) {
    var id = "score-" + (i + 1);
    return el("span", { class: "score" }, [
      el("input", { type: "radio", name: "score", id: id, value: String(i + 1), required: i === 0 }),
      el("label", { for: id, text: label })
    ]);
  });
  v.rateComment = el("textarea", { id: "rating-comment", rows: "2", maxlength: "1000" });
  v.rateError = el("p", { class: "error", role: "alert" });
  return el("form", { class: "rating", hidden: true, onsubmit: function (event) { event.preventDefault(); widget.rate(); } }, [
    el("fieldset", {}, [v.rateLegend, el("div", { class: "scores" }, v.scores)]),
    el("label", { for: "rating-comment", text: t.comment }), v.rateComment,
    v.rateError,
    el("button", { class: "primary", type: "submit", text: t.sendRating })
  ]);
}

function contactForm(widget, t, v) {
  function field(name, type, label, autocomplete) {
    v["contact_" + name] = el("input", { id: "contact-" + name, name: name, type: type, autocomplete: autocomplete,
      maxlength: name === "name" ? "100" : "254", required: name === "name" });
    return el("label", { for: "contact-" + name }, [el("span", { text: label }), v["contact_" + name]]);
  }
  v.contactError = el("p", { class: "error", role: "alert" });
  return el("form", { class: "contact", hidden: true, "aria-label": t.leaveContact,
    onsubmit: function (event) { event.preventDefault(); widget.sendContact(); } }, [
    field("name", "text", t.name, "name"),
    field("email", "email", t.email, "email"),
    field("phone", "tel", t.phone, "tel"),
    el("p", { class: "hint", text: t.contactHint }),
    v.contactError,
    el("div", { class: "actions" }, [
      el("button", { class: "primary", type: "submit", text: t.sendContact }),
      el("button", { type: "button", text: t.cancel, onclick: function () { widget.hideContactForm(); } })
    ])
  ]);
}

/** One message as a list item: who said it, the text (as text, never HTML) and the time. */
export function messageNode(message, t, lang) {
  var who = { visitor: t.you, bot: t.bot, agent: (message.agent && message.agent.name) || t.agent }[message.sender];
  return el("li", { class: "msg msg-" + message.sender, "data-id": message.id }, [
    who ? el("span", { class: "who", text: who }) : null,
    el("p", { class: "text", text: message.text }),
    message.created_at ? el("time", { datetime: message.created_at, text: clockTime(message.created_at, lang) }) : null
  ]);
}

/** The visitor's message while it waits for the server's ack. */
export function pendingNode(text, t) {
  return el("li", { class: "msg msg-visitor pending" }, [
    el("span", { class: "who", text: t.you }),
    el("p", { class: "text", text: text }),
    el("span", { class: "status", text: t.sending })
  ]);
}

/** Make the emergency advice stand out, for eyes and for screen readers. */
export function markUrgent(node, t) {
  if (!node || node.classList.contains("urgent")) return;
  node.classList.add("urgent");
  node.insertBefore(el("strong", { class: "flag", text: "⚠ " + t.urgent }), node.firstChild);
}
