// The journey studio's page: the editor on the left, live views on the right. Every judgement
// (errors, warnings, timeline, preview, simulation, changes in flight) comes from the server.
import "./studio.css";
import { config, get, post, plural, t } from "./api.js";
import { createEditor, rangeOf } from "./editor.js";
import { setupTabs } from "./tabs.js";
import { renderProblems } from "./problems.js";
import { setupSave } from "./save.js";
import { forceLinting } from "@codemirror/lint";

const $ = (id) => document.getElementById(id);

const state = {
  deal: null, // null: the journey's default example
  touches: [], // [{id, line, end, channel}] from the last check of a journey
  lastOk: null, // the text of the last check without errors
  version: null,
  touch: null, // the touch under the cursor
  previewed: null, // "<touch>|<text length>|<deal>" of the card shown
  checks: 0,
  flightFor: null,
};

function touchAt(editorState) {
  if (config.kind !== "journey") return config.users && config.users.length ? config.users[0] : null;
  const doc = editorState.doc;
  const line = doc.lineAt(editorState.selection.main.head).number;
  let found = null;
  for (const touch of state.touches) {
    if (touch.line <= line && (!found || touch.line >= found.line)) found = touch;
  }
  if (!found) return null;
  if (line > found.end) {
    // past the touch's last key: still inside it only while the lines are indented deeper than its dash
    const start = doc.line(found.line).text;
    const dash = start.search(/\S/);
    for (let n = found.end + 1; n <= line; n++) {
      const text = doc.line(n).text;
      if (text.trim() && text.search(/\S/) <= dash) return null;
    }
  }
  return found.id;
}

// -- the timeline: two frames, the new one shown when it has loaded (no flash while typing) ------
const frames = config ? [$("timeline-a"), $("timeline-b")] : [];
let front = 0;
function showTimeline(url) {
  const back = frames[1 - front];
  back.onload = () => {
    back.classList.add("shown");
    frames[front].classList.remove("shown");
    front = 1 - front;
    $("timeline-frames").dataset.url = url;
    $("timeline-frames").dataset.loaded = String(Date.now());
    $("timeline-note").textContent = "";
  };
  back.src = url;
}

// -- checking: the linter source CodeMirror calls 300 ms after the last keystroke ----------------
async function check(view) {
  const text = view.state.doc.toString();
  const seq = ++state.checks;
  $("problems-summary").textContent = t("Checking…");
  let answer;
  try {
    answer = (
      await post("check", {
        file: config.file,
        journey: config.journey,
        text,
        deal: state.deal,
      })
    ).data;
  } catch (error) {
    $("problems-summary").textContent = t("Could not reach the studio: {why}", { why: error.message });
    return [];
  }
  if (view.state.doc.toString() !== text) return []; // typed on meanwhile: the next check answers
  const diagnostics = answer.diagnostics.map((d) => {
    const { from, to } = rangeOf(view.state.doc, d.line, d.col);
    return {
      from,
      to,
      severity: d.severity === "warning" ? "warning" : "error",
      message: d.message + (d.hint ? `\n${t("hint: {hint}", { hint: d.hint })}` : ""),
      source: d.rule || undefined,
    };
  });
  renderProblems(answer.diagnostics, view);
  const editorBox = $("editor");
  editorBox.dataset.checked = String(seq);
  editorBox.dataset.ok = String(answer.ok);
  if (config.kind === "journey") {
    state.touches = answer.touches || [];
    renderHolds(state.touches.map((x) => x.id));
    if (answer.timeline) {
      showTimeline(answer.timeline);
      state.lastOk = text;
      state.version = answer.version;
    } else {
      $("timeline-note").textContent = answer.deal_problem || t("The timeline is drawn when the journey has no errors.");
    }
    if (answer.deal_problem) $("deal-note").textContent = answer.deal_problem;
  } else {
    state.lastOk = answer.ok ? text : null;
    if (answer.timeline) showTimeline(answer.timeline); // the saved journey's, for the sample deal
  }
  refreshVisible(view);
  return diagnostics;
}

// -- the touch under the cursor, previewed as `preview` renders it ------------------------------
let previewTimer = null;
// After a check the text is known good: preview at once. A cursor moving through the text waits a
// moment, so arrowing past ten touches renders only the one it stops at.
function schedulePreview(view, delay = 120) {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(() => preview(view), delay);
}

async function preview(view) {
  if ($("panel-touch").hidden) return;
  const text = view.state.doc.toString();
  const touch = touchAt(view.state);
  if (!touch) {
    $("touch-note").textContent = t("Move the cursor into a touch to see it here.");
    return;
  }
  if (config.kind === "journey" && state.lastOk !== text) return; // wait for a check without errors
  const key = `${touch}|${text}|${JSON.stringify(state.deal)}`;
  if (state.previewed === key) return;
  state.previewed = key;
  $("touch-note").textContent = t("Rendering {touch}…", { touch });
  try {
    const answer = (
      await post("preview", { file: config.file, journey: config.journey, text, touch, deal: state.deal })
    ).data;
    if (state.previewed !== key) return;
    const card = $("touch-card");
    card.innerHTML = answer.html; // made by the server from the escaped card template
    card.dataset.touch = answer.touch;
    card.dataset.shown = String(Date.now());
    $("touch-note").textContent = "";
  } catch (error) {
    state.previewed = null;
    $("touch-note").textContent = error.message;
  }
}

// -- play: simulate with holds -------------------------------------------------------------------
function renderHolds(ids) {
  const box = $("holds");
  const held = new Set([...box.querySelectorAll("input:checked")].map((i) => i.value));
  const now = [...box.querySelectorAll("input")].map((i) => i.value).join(",");
  if (now === ids.join(",")) return;
  box.replaceChildren(
    ...ids.map((id) => {
      const label = document.createElement("label");
      const input = document.createElement("input");
      input.type = "checkbox";
      input.name = "hold";
      input.value = id;
      input.checked = held.has(id);
      label.append(input, " ", id);
      return label;
    }),
  );
}

async function play(view) {
  const holds = [...$("holds").querySelectorAll("input:checked")].map((i) => i.value);
  $("play-result").textContent = t("Playing…");
  try {
    const answer = (
      await post("play", {
        file: config.file,
        journey: config.journey,
        text: view.state.doc.toString(),
        deal: state.deal,
        holds,
      })
    ).data;
    $("play-result").innerHTML = answer.html;
    $("play-result").dataset.shown = String(Date.now());
  } catch (error) {
    $("play-result").textContent = error.message;
  }
}

// -- journeys in flight: what this text changes against each version ----------------------------
async function flight(view) {
  if ($("panel-flight").hidden) return;
  const text = view.state.doc.toString();
  if (config.kind === "journey" && state.lastOk !== text) return;
  if (state.flightFor === text) return;
  state.flightFor = text;
  try {
    const answer = (await post("flight", { file: config.file, journey: config.journey, text })).data;
    $("flight-result").innerHTML = answer.html;
    $("flight-result").dataset.version = answer.version;
  } catch (error) {
    state.flightFor = null;
    $("flight-result").textContent = error.message;
  }
}

function refreshVisible(view) {
  schedulePreview(view, 0);
  flight(view);
}

// -- the sample deal -----------------------------------------------------------------------------
async function setupDeals(view) {
  const select = $("deal-choice");
  let deals;
  try {
    deals = await get("deals", { file: config.file, journey: config.journey });
  } catch (error) {
    $("deal-note").textContent = error.message;
    return;
  }
  select.replaceChildren(
    ...deals.choices.map((c) => {
      const option = document.createElement("option");
      option.value = c.key;
      option.textContent = c.label;
      option.selected = c.key === deals.default;
      return option;
    }),
  );
  for (const [key, value] of Object.entries(deals.form || {})) {
    const input = $(`deal-${key}`);
    if (input) input.value = value;
  }
  const use = (deal, label) => {
    state.deal = deal;
    state.previewed = null;
    $("deal-note").textContent = t("Sample deal: {deal}", { deal: label });
    forceCheck(view);
  };
  $("deal-pick").addEventListener("submit", (event) => {
    event.preventDefault();
    const [kind, ...rest] = select.value.split(":");
    const value = rest.join(":");
    use(kind === "ledger" ? { ledger: value } : { example: value }, select.selectedOptions[0].textContent);
  });
  $("deal-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = Object.fromEntries(new FormData(event.target).entries());
    const base = select.value.startsWith("example:") ? select.value.slice(8) : undefined;
    use({ form, example: base }, `${form.first_name || ""} ${form.last_name || ""}`.trim());
  });
}

const forceCheck = (view) => forceLinting(view);

function start() {
  const nonce = (document.querySelector('meta[name="studio-nonce"]') || {}).content || "";
  const holder = $("editor");
  let view;
  const save = setupSave(() => view);
  view = createEditor(holder, {
    doc: config.text,
    label: holder.dataset.label,
    nonce,
    onCheck: check,
    onChange: () => save.changed(),
    onCursor: (s) => {
      const touch = touchAt(s);
      if (touch !== state.touch) {
        state.touch = touch;
        $("editor").dataset.touch = touch || "";
      }
      if (view) schedulePreview(view);
    },
    onSave: () => save.save(),
  });
  setupTabs((panel) => {
    if (panel === "touch") schedulePreview(view);
    if (panel === "flight") flight(view);
  });
  $("play-form").addEventListener("submit", (event) => {
    event.preventDefault();
    play(view);
  });
  setupDeals(view);
  if (config.kind !== "journey") renderHolds(config.touches || []);
  window.studio = { view }; // for the tests and the bench: the editor, nothing more
}

if (config) start();
