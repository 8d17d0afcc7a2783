// Runs before the page paints (loaded without defer): the visitor's view choices, kept in
// localStorage, become classes on <html>. "dark"/"light" override prefers-color-scheme;
// no entry follows it. Nothing is sent to the server: the page bytes are shared.
(function () {
  var root = document.documentElement;
  root.classList.add("js");
  try {
    if (localStorage.getItem("pf-compact") === "1") root.classList.add("compact");
    var theme = localStorage.getItem("pf-theme");
    if (theme === "dark" || theme === "light") root.classList.add(theme);
  } catch (e) { /* storage blocked: the defaults */ }
})();
