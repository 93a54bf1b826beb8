// The list of problems beside the editor: each says its line, message and hint, and a button
// moves the cursor to it (keyboard users get there without the mouse).
import { plural, t } from "./api.js";
import { rangeOf } from "./editor.js";

export function renderProblems(diagnostics, view) {
  const list = document.getElementById("problems");
  const errors = diagnostics.filter((d) => d.severity !== "warning").length;
  const warnings = diagnostics.length - errors;
  const parts = [];
  if (errors) parts.push(plural("{n} problem", "{n} problems", errors));
  if (warnings) parts.push(plural("{n} warning", "{n} warnings", warnings));
  document.getElementById("problems-summary").textContent = parts.length ? parts.join(", ") + "." : t("No problems.");
  document.getElementById("problems-count").textContent = diagnostics.length ? `(${diagnostics.length})` : "";
  list.replaceChildren(
    ...diagnostics.map((d) => {
      const item = document.createElement("li");
      item.className = d.severity === "warning" ? "warning" : "error";
      item.dataset.line = String(d.line);
      item.dataset.rule = d.rule || "";
      const go = document.createElement("button");
      go.type = "button";
      go.className = "goto";
      go.textContent = t("line {line}", { line: d.line });
      go.addEventListener("click", () => {
        const { from, to } = rangeOf(view.state.doc, d.line, d.col);
        view.dispatch({ selection: { anchor: from, head: to }, scrollIntoView: true });
        view.focus();
      });
      const message = document.createElement("span");
      message.className = "message";
      message.textContent = d.message + (d.rule ? ` [${d.rule}]` : "");
      item.append(go, " ", message);
      if (d.hint) {
        const hint = document.createElement("span");
        hint.className = "hint";
        hint.textContent = t("hint: {hint}", { hint: d.hint });
        item.append(hint);
      }
      return item;
    }),
  );
}
