// Upvotes without a page reload. Without JavaScript the same forms post and redirect back.
document.addEventListener("submit", async (event) => {
  const form = event.target.closest("form.vote");
  if (!form) return;
  event.preventDefault();
  const button = form.querySelector("button");
  const token = form.querySelector("input[name=csrf_token]").value;
  // Not `disabled`: disabling the focused button would drop keyboard focus to <body>.
  if (form.dataset.busy) return;
  form.dataset.busy = "1";
  button.setAttribute("aria-disabled", "true");
  try {
    const response = await fetch(form.dataset.api, {
      method: "POST", headers: { "X-CSRF-Token": token }, credentials: "same-origin",
    });
    if (response.status === 401) {
      // Back to this paper's card after logging in; the form says why it is asked.
      const card = form.closest("article.paper");
      const back = location.pathname + location.search + (card ? "#" + card.id : "");
      location.href = "/login?next=" + encodeURIComponent(back) + "&why=upvote";
      return;
    }
    if (!response.ok) { form.submit(); return; }
    const state = await response.json();
    // The same paper may be listed twice on a page (e.g. paper + similar): update all.
    for (const other of document.querySelectorAll(`form.vote[data-api="${CSS.escape(form.dataset.api)}"]`)) {
      const b = other.querySelector("button");
      b.setAttribute("aria-pressed", String(state.voted));
      b.querySelector(".count").textContent = state.upvotes;
    }
  } finally {
    delete form.dataset.busy;
    button.removeAttribute("aria-disabled");
  }
});

// Save to the library without a page reload; without JavaScript the form posts and
// redirects back. The API answers {"saved": true|false}; every Save button of the paper
// on the page follows.
document.addEventListener("submit", async (event) => {
  const form = event.target.closest("form.save");
  if (!form) return;
  event.preventDefault();
  if (form.dataset.busy) return;
  form.dataset.busy = "1";
  const button = form.querySelector("button");
  button.setAttribute("aria-disabled", "true");
  try {
    const response = await fetch(form.dataset.api, {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRF-Token": form.querySelector("input[name=csrf_token]").value },
    });
    if (response.status === 401) {
      const card = form.closest("article.paper");
      const back = location.pathname + location.search + (card ? "#" + card.id : "");
      location.href = "/login?next=" + encodeURIComponent(back) + "&why=save";
      return;
    }
    if (!response.ok) { form.submit(); return; }
    const state = await response.json();
    for (const other of document.querySelectorAll(`form.save[data-api="${CSS.escape(form.dataset.api)}"]`)) {
      other.querySelector("button").setAttribute("aria-pressed", String(state.saved));
    }
  } finally {
    delete form.dataset.busy;
    button.removeAttribute("aria-disabled");
  }
});
