// Private "more / less like this" without a page reload. Without JavaScript the same
// forms post (the server toggles) and redirect back.
document.addEventListener("submit", async (event) => {
  const form = event.target.closest("form.rate");
  if (!form) return;
  const button = event.submitter;
  if (!button || !button.matches(".rate-button")) return;
  event.preventDefault();
  if (form.dataset.busy) return;
  form.dataset.busy = "1";
  const pressed = button.getAttribute("aria-pressed") === "true";
  const rating = pressed ? 0 : Number(button.value);
  try {
    const response = await fetch(form.dataset.api, {
      method: "POST", credentials: "same-origin",
      headers: {
        "X-CSRF-Token": form.querySelector("input[name=csrf_token]").value,
        "Content-Type": "application/json",
      },
      body: JSON.stringify({ rating }),
    });
    if (response.status === 401) {
      const card = form.closest("article.paper");
      const back = location.pathname + location.search + (card ? "#" + card.id : "");
      location.href = "/login?next=" + encodeURIComponent(back) + "&why=rate";
      return;
    }
    if (!response.ok) { delete form.dataset.busy; form.requestSubmit(button); return; }
    const state = await response.json();
    // The same paper may be on the page twice: update every copy.
    for (const other of document.querySelectorAll(`form.rate[data-api="${CSS.escape(form.dataset.api)}"]`)) {
      for (const b of other.querySelectorAll(".rate-button")) {
        b.setAttribute("aria-pressed", String(Number(b.value) === state.rating));
      }
    }
  } finally {
    delete form.dataset.busy;
  }
});
