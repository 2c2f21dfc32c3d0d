/* Signing in with an account: email, password and, when two-step sign-in is on, the code from the person's
 * authenticator app; and turning two-step sign-in on (the QR code drawn by the server, the first code, the ten
 * recovery codes shown once). The session lives in an HttpOnly cookie this script never sees. */

import { el } from "./common.js";

function post(path, body) {
  return fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, cache: "no-store",
    body: JSON.stringify(body || {}) }).then(function (response) {
    return response.json().then(function (answer) {
      if (response.ok) return answer;
      var error = new Error(answer.error ? answer.error.message : "HTTP " + response.status);
      error.code = answer.error && answer.error.code;
      throw error;
    });
  });
}

/** POST /auth/login; asks for the code when the server says it is needed. Resolves with the login answer. */
export function logIn($, email, password) {
  var field = $("totp-field"), code = $("totp").value.trim();
  $("account-error").textContent = "";
  var body = { email: email, password: password };
  if (!field.hidden && code) body.totp = code;
  return post("/auth/login", body).then(function (answer) {
    $("password").value = $("totp").value = "";
    field.hidden = true;
    return answer;
  }, function (error) {
    $("account-error").textContent = error.message;
    if (error.code && error.code.indexOf("totp_") === 0) {
      field.hidden = false;
      $("totp").value = "";
      $("totp").focus();
    }
    throw error;
  });
}

/** The two-step sign-in panel: start, scan, confirm with the first code, then the recovery codes. */
export function TwoStep($, done) {
  this.$ = $;
  this.done = done;
  var self = this;
  $("totp-confirm").addEventListener("submit", function (e) { e.preventDefault(); self.confirm(); });
  $("totp-finish").addEventListener("click", function () { self.close(); });
}

TwoStep.prototype.open = function (required) {
  var $ = this.$;
  $("enrol-view").hidden = false;
  $("enrol-required").hidden = !required;
  $("totp-codes").hidden = $("totp-finish").hidden = true;
  $("totp-confirm").hidden = false;
  $("totp-error").textContent = "";
  post("/auth/totp/setup").then(function (started) {
    $("totp-qr").replaceChildren(el("img", { src: started.qr,
      alt: "QR code for your authenticator app" }));
    $("totp-secret").textContent = started.secret.replace(/(.{4})/g, "$1 ").trim();
    $("totp-code").focus();
  }, function (error) { $("totp-error").textContent = error.message; });
};

TwoStep.prototype.confirm = function () {
  var $ = this.$;
  $("totp-error").textContent = "";
  post("/auth/totp/confirm", { totp: $("totp-code").value.trim() }).then(function (answer) {
    $("totp-confirm").hidden = true;
    $("totp-qr").replaceChildren();
    $("totp-code").value = "";
    $("totp-codes").hidden = $("totp-finish").hidden = false;
    $("recovery-codes").replaceChildren.apply($("recovery-codes"), answer.recovery_codes.map(function (code) {
      return el("li", { text: code });
    }));
    $("totp-finish").focus();
  }, function (error) { $("totp-error").textContent = error.message; });
};

TwoStep.prototype.close = function () {
  this.$("enrol-view").hidden = true;
  this.$("recovery-codes").replaceChildren();
  this.done();
};
