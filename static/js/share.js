/* The share panel's "copy link" button (sharing/templates/sharing/panel.html): the Clipboard API where the page
 * may use it (HTTPS or localhost), else the selected text copied the old way; the result is said in a status
 * line (aria-live). No inline script: the site's Content-Security-Policy forbids it. */
(function () {
  "use strict";
  var button = document.getElementById("share-copy");
  if (!button) return;
  var input = document.getElementById(button.getAttribute("data-copy-target"));
  var status = document.getElementById("share-copy-status");

  function say(text) { if (status) status.textContent = text; }

  function legacyCopy() {
    input.focus();
    input.select();
    input.setSelectionRange(0, input.value.length);
    try { return document.execCommand("copy"); } catch (e) { return false; }
  }

  button.addEventListener("click", function () {
    var copied = button.getAttribute("data-copied"), failed = button.getAttribute("data-failed");
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(function () { say(copied); }, function () {
        say(legacyCopy() ? copied : failed);
      });
    } else {
      say(legacyCopy() ? copied : failed);
    }
  });
  // A click in the field selects the whole link, for a copy by hand.
  input.addEventListener("focus", function () { input.select(); });
}());
