/* The number rule of contest_engine/numbers.py for the browser (live boards, exam page):
   decimal comma, "." between thousands, no trailing zeros, never an exponent; durations mm:ss / h:mm:ss
   truncated to the whole second. Exposed as window.ceNumbers. */
(function () {
  "use strict";
  function group(digits) {
    var out = "";
    while (digits.length > 3) { out = "." + digits.slice(-3) + out; digits = digits.slice(0, -3); }
    return digits + out;
  }
  function number(value, decimals) {
    if (value === null || value === undefined || value === "") { return ""; }
    var n = Number(value);
    if (!isFinite(n)) { return String(value); }
    var factor = Math.pow(10, decimals);
    // Half away from zero, on the decimal text (toFixed alone rounds binary numbers unpredictably).
    var rounded = Math.sign(n) * Math.round(Number((Math.abs(n) * factor).toPrecision(15))) / factor;
    var text = Math.abs(rounded).toFixed(decimals);
    var parts = text.split(".");
    var decimalsText = (parts[1] || "").replace(/0+$/, "");
    var sign = rounded < 0 && (parts[0] !== "0" || decimalsText) ? "-" : "";
    return sign + group(parts[0]) + (decimalsText ? "," + decimalsText : "");
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function duration(ms) {
    var n = Number(ms);
    if (ms === null || ms === undefined || ms === "" || !isFinite(n) || n < 0) { return ""; }
    var s = Math.floor(n / 1000);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    return h ? h + ":" + pad(m) + ":" + pad(sec) : pad(m) + ":" + pad(sec);
  }
  window.ceNumbers = {
    score: function (v) { return number(v, 3); },
    count: function (v) { return number(v, 0); },
    duration: duration
  };
})();
