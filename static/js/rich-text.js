/* Question text (stems, options) into the page without innerHTML.
 *
 * The question bank sanitises every stem and option when it is saved (questionbank/sanitize.py, nh3 with an
 * allow-list). This is the second line of defence for the exam page, which receives that HTML over its socket:
 * the string is parsed by DOMParser into an inert document (no scripts run, no images load, no handlers fire
 * in a document without a browsing context), and only the same allow-listed elements and attributes are then
 * rebuilt in the page with createElement/setAttribute/createTextNode. Anything else is dropped (script-like
 * elements with their content) or unwrapped to its text, like nh3 does. URLs keep only http, https and mailto
 * (after the browser's own URL parsing, so "java\tscript:" cannot slip through). With the site's CSP (no inline
 * script, docs/operations.md) a slip of the sanitiser would still not run.
 *
 * The lists are the twins of questionbank/sanitize.py; tests/questionbank/test_rich_text_js.py keeps them equal.
 */
(function () {
  "use strict";
  var ALLOWED_TAGS = ["p", "br", "b", "strong", "i", "em", "u", "s", "sub", "sup", "mark", "small",
                      "ul", "ol", "li", "blockquote", "pre", "code",
                      "table", "thead", "tbody", "tr", "th", "td", "caption",
                      "span", "div", "img", "a"];
  var ALLOWED_ATTRIBUTES = {
    img: ["src", "alt", "width", "height"],
    a: ["href", "title"],
    td: ["colspan", "rowspan"],
    th: ["colspan", "rowspan"]
  };
  var CLEAN_CONTENT_TAGS = ["script", "style", "iframe", "object", "embed", "template", "noscript", "svg", "math",
                            "textarea", "select"];
  var URL_SCHEMES = ["https", "http", "mailto"];
  var URL_ATTRIBUTES = ["href", "src"];

  function urlAllowed(value) {
    var url;
    try { url = new URL(value, document.baseURI); } catch (e) { return false; }
    return URL_SCHEMES.indexOf(url.protocol.replace(/:$/, "")) !== -1;
  }

  function copyChildren(from, into) {
    Array.prototype.forEach.call(from.childNodes, function (child) {
      if (child.nodeType === Node.TEXT_NODE) {
        into.appendChild(document.createTextNode(child.nodeValue));
        return;
      }
      if (child.nodeType !== Node.ELEMENT_NODE) { return; }  // comments, processing instructions
      var tag = child.localName;
      if (CLEAN_CONTENT_TAGS.indexOf(tag) !== -1) { return; }
      if (ALLOWED_TAGS.indexOf(tag) === -1) { copyChildren(child, into); return; }  // unwrapped: text kept
      var element = document.createElement(tag);
      (ALLOWED_ATTRIBUTES[tag] || []).forEach(function (name) {
        var value = child.getAttribute(name);
        if (value === null) { return; }
        if (URL_ATTRIBUTES.indexOf(name) !== -1 && !urlAllowed(value)) { return; }
        element.setAttribute(name, value);
      });
      if (tag === "a") { element.setAttribute("rel", "noopener noreferrer nofollow"); }
      copyChildren(child, element);
      into.appendChild(element);
    });
  }

  /* A DocumentFragment with the allow-listed content of ``html`` (a string of sanitised question HTML). */
  window.ceRichText = function (html) {
    var inert = new DOMParser().parseFromString(String(html || ""), "text/html");
    var fragment = document.createDocumentFragment();
    copyChildren(inert.body, fragment);
    return fragment;
  };
})();
