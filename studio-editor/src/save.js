// Saving: the text exactly as typed. The server refuses when the file changed on disk since it was
// opened (the page shows the diff and lets you choose) and, when the text has errors, until the
// page has said what is broken and you chose to save anyway.
import { config, get, post, t } from "./api.js";

export function setupSave(getView) {
  const button = document.getElementById("save");
  const dirty = document.getElementById("dirty");
  const panel = document.getElementById("save-panel");
  let base = config.sha256;
  let saved = config.text;
  let busy = false;

  const isDirty = () => getView().state.doc.toString() !== saved;
  const showState = () => {
    const changed = isDirty();
    dirty.textContent = changed ? t("Unsaved changes") : t("All changes saved");
    dirty.dataset.dirty = String(changed);
  };
  const git = (word) => {
    document.getElementById("git-word").textContent = (config.git_words || {})[word] || word;
    document.getElementById("git-state").dataset.git = word;
  };
  git(config.git);

  const choose = (message, detail, actions) => {
    panel.replaceChildren();
    const p = document.createElement("p");
    p.textContent = message;
    panel.append(p);
    if (detail) panel.append(detail);
    const row = document.createElement("p");
    row.className = "actions";
    for (const [label, run] of actions) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = label;
      b.addEventListener("click", run);
      row.append(b);
    }
    panel.append(row);
    panel.hidden = false;
    row.querySelector("button").focus();
  };

  async function save({ allowErrors = false, over = null } = {}) {
    if (busy) return;
    busy = true;
    const view = getView();
    const text = view.state.doc.toString();
    dirty.textContent = t("Saving…");
    try {
      const { status, data } = await post("save", {
        file: config.file,
        journey: config.journey,
        text,
        base: over || base,
        allow_errors: allowErrors,
      });
      if (status === 409) {
        const pre = document.createElement("pre");
        pre.className = "diff";
        pre.tabIndex = 0;
        pre.textContent = data.diff;
        choose(t("The file changed on disk since you opened it. This is how yours differs from it:"), pre, [
          [t("Save mine over it"), () => save({ allowErrors, over: data.disk_sha256 })],
          [t("Load the file from disk (your changes are lost)"), () => reload()],
        ]);
        panel.dataset.state = "conflict";
      } else if (status === 422) {
        const list = document.createElement("ul");
        for (const problem of data.problems) {
          const li = document.createElement("li");
          li.textContent = `${t("line {line}", { line: problem.line })}: ${problem.message}`;
          list.append(li);
        }
        choose(t("This text has problems:"), list, [
          [t("Save anyway"), () => save({ allowErrors: true, over })],
          [t("Keep editing"), () => ((panel.hidden = true), getView().focus())],
        ]);
        panel.dataset.state = "problems";
      } else {
        base = data.sha256;
        saved = text;
        panel.hidden = true;
        panel.dataset.state = "saved";
        git(data.git);
        showState();
        if (!isDirty()) dirty.textContent = t("Saved.");
        dirty.dataset.saved = String(Date.now());
      }
    } catch (error) {
      choose(t("Could not reach the studio: {why}", { why: error.message }), null, [[t("Keep editing"), () => (panel.hidden = true)]]);
    } finally {
      busy = false;
      if (panel.dataset.state !== "saved" || isDirty()) showState(); // "Saved." stays until the next change
    }
  }

  async function reload() {
    const data = await get("file", { file: config.file });
    const view = getView();
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: data.text } });
    base = data.sha256;
    saved = data.text;
    git(data.git);
    panel.hidden = true;
    panel.dataset.state = "reloaded";
    showState();
    view.focus();
  }

  button.addEventListener("click", () => save());
  window.addEventListener("beforeunload", (event) => {
    if (isDirty()) {
      event.preventDefault();
      event.returnValue = t("Leave the page? Your changes are not saved.");
    }
  });
  return { save: () => save(), changed: showState };
}
