// View toggles (compact, dark), keyboard shortcuts and their help dialog.
// Choices live in localStorage (theme.js applies them before paint); never in a cookie,
// because the server sends everyone the same bytes.
(() => {
  const root = document.documentElement;
  const darkQuery = window.matchMedia("(prefers-color-scheme: dark)");
  const isDark = () => root.classList.contains("dark") ||
    (darkQuery.matches && !root.classList.contains("light"));
  const store = (name, value) => { try { localStorage.setItem(name, value); } catch (e) { /* blocked */ } };

  const toggles = document.querySelector(".view-toggles");
  const compactButton = document.querySelector("[data-toggle=compact]");
  const darkButton = document.querySelector("[data-toggle=dark]");
  const help = document.getElementById("shortcuts");
  const showState = () => {
    if (compactButton) compactButton.setAttribute("aria-pressed", String(root.classList.contains("compact")));
    if (darkButton) darkButton.setAttribute("aria-pressed", String(isDark()));
  };
  if (toggles) toggles.hidden = false;
  showState();
  darkQuery.addEventListener("change", showState);
  compactButton?.addEventListener("click", () => {
    store("pf-compact", root.classList.toggle("compact") ? "1" : "0");
    showState();
  });
  darkButton?.addEventListener("click", () => {
    const dark = !isDark();
    root.classList.remove("dark", "light");
    root.classList.add(dark ? "dark" : "light");
    store("pf-theme", dark ? "dark" : "light");
    showState();
  });
  document.querySelector("[data-help]")?.addEventListener("click", () => help?.showModal());

  // Selects that filter a list apply at once; the button beside them is for no-JS.
  for (const select of document.querySelectorAll("form[data-autosubmit] select")) {
    select.addEventListener("change", () => select.form.requestSubmit());
  }
  for (const input of document.querySelectorAll("form[data-autosubmit] input[type=date]")) {
    input.addEventListener("change", () => { if (input.value) input.form.requestSubmit(); });
  }

  const cards = () => Array.from(document.querySelectorAll("article.paper[tabindex]"));
  const current = () => document.activeElement?.closest?.("article.paper[tabindex]") || null;
  const move = (step) => {
    const list = cards();
    if (!list.length) return;
    const at = list.indexOf(current());
    const next = list[at < 0 ? (step > 0 ? 0 : list.length - 1)
                             : Math.min(list.length - 1, Math.max(0, at + step))];
    next.focus({ preventScroll: true });
    next.scrollIntoView({ block: "nearest" });
  };
  const typing = (target) => target instanceof HTMLElement && (target.isContentEditable ||
    target.matches("input, textarea, select, [contenteditable]"));

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (help?.open) return;  // the dialog handles its own keys (Esc closes it)
    const card = current();
    switch (event.key) {
      case "/": {
        const search = document.querySelector("form.search input[name=q]");
        if (!search) return;
        search.focus();
        search.select();
        break;
      }
      case "j": move(1); break;
      case "k": move(-1); break;
      case "o": case "Enter":
        if (!card || (event.key === "Enter" && event.target !== card)) return;
        card.querySelector("h2 a")?.click();
        break;
      case "u": if (!card) return; card.querySelector("form.vote")?.requestSubmit(); break;
      case "s": if (!card) return; card.querySelector("form.save")?.requestSubmit(); break;
      case "?": help?.showModal(); break;
      default: return;
    }
    event.preventDefault();
  });
})();
