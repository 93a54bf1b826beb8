// The CodeMirror 6 editor: YAML for journeys, Jinja (on HTML or Markdown) for templates, the
// server's diagnostics in place, completion asked from the server (journeys) or from the deal's
// merge fields (templates). No rule of hundred lives here.
import { EditorState, Compartment } from "@codemirror/state";
import {
  EditorView,
  keymap,
  lineNumbers,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  drawSelection,
  dropCursor,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import {
  indentOnInput,
  syntaxHighlighting,
  HighlightStyle,
  bracketMatching,
  foldGutter,
  foldKeymap,
  indentUnit,
} from "@codemirror/language";
import { tags } from "@lezer/highlight";
import { searchKeymap, highlightSelectionMatches } from "@codemirror/search";
import { autocompletion, completionKeymap, closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
import { linter, lintGutter, lintKeymap } from "@codemirror/lint";
import { yaml } from "@codemirror/lang-yaml";
import { jinja } from "@codemirror/lang-jinja";
import { html } from "@codemirror/lang-html";
import { markdown } from "@codemirror/lang-markdown";
import { config, post } from "./api.js";

// Colours with at least 4.5:1 contrast on the editor's white (WCAG AA, checked by axe in the tests).
const highlight = HighlightStyle.define([
  { tag: tags.comment, color: "#5c6370", fontStyle: "italic" },
  { tag: [tags.propertyName, tags.definition(tags.propertyName)], color: "#1a4d8f" },
  { tag: [tags.string, tags.special(tags.string)], color: "#1d6b2f" },
  { tag: [tags.number, tags.bool, tags.null, tags.atom], color: "#8a3b00" },
  { tag: [tags.keyword, tags.controlKeyword, tags.operatorKeyword], color: "#7a2e8e" },
  { tag: [tags.tagName, tags.angleBracket], color: "#7a2e8e" },
  { tag: tags.attributeName, color: "#8a3b00" },
  { tag: [tags.variableName, tags.name], color: "#1a4d8f" },
  { tag: [tags.meta, tags.processingInstruction, tags.brace], color: "#4d4d4d" },
  { tag: tags.heading, fontWeight: "bold", color: "#1a4d8f" },
  { tag: tags.emphasis, fontStyle: "italic" },
  { tag: tags.strong, fontWeight: "bold" },
  { tag: tags.link, color: "#1a4d8f", textDecoration: "underline" },
  { tag: tags.invalid, color: "#b00020" },
]);

function language(file) {
  if (file.endsWith(".yaml") || file.endsWith(".yml")) return yaml();
  const fields = config.fields || {};
  const jinjaFields = {
    variables: Object.keys(fields).map((name) => ({ label: name, type: "variable", detail: "merge field" })),
    properties: (path) => {
      let level = fields;
      for (const part of path) level = level && typeof level === "object" ? level[part] : null;
      if (!level || typeof level !== "object") return [];
      return Object.keys(level).map((name) => ({
        label: name,
        type: level[name] && typeof level[name] === "object" ? "variable" : "property",
        detail: "merge field",
      }));
    },
  };
  if (file.endsWith(".html")) return jinja({ base: html(), ...jinjaFields });
  if (file.endsWith(".md")) return jinja({ base: markdown(), ...jinjaFields });
  return jinja(jinjaFields);
}

// The server completes a journey's keys and values from hundred's JSON Schema.
async function serverCompletion(context) {
  const before = context.matchBefore(/[\w./-]*$/);
  const line = context.state.doc.lineAt(context.pos);
  const typed = line.text.slice(0, context.pos - line.from);
  if (!context.explicit && (!before || before.from === before.to) && !/(:\s*|\{\{\s*|\|\s*|-\s+|\[\s*|,\s*)$/.test(typed))
    return null;
  let answer;
  try {
    answer = await post("complete", { file: config.file, text: context.state.doc.toString(), offset: context.pos });
  } catch (_) {
    return null;
  }
  if (context.aborted || !answer.data || !answer.data.options || !answer.data.options.length) return null;
  return { from: answer.data.from, options: answer.data.options, validFor: /^[\w./-]*$/ };
}

export function createEditor(parent, { doc, onCheck, onChange, onCursor, onSave, label, nonce }) {
  const separator = config.separator === "\r\n" ? "\r\n" : "\n";
  const readOnly = new Compartment();
  const journey = config.kind === "journey";
  const extensions = [
    EditorState.lineSeparator.of(separator), // the file's own line breaks, so saving is byte-exact
    EditorView.cspNonce.of(nonce || ""),
    lineNumbers(),
    highlightActiveLineGutter(),
    highlightSpecialChars(),
    history(),
    foldGutter(),
    drawSelection(),
    dropCursor(),
    indentUnit.of("  "),
    EditorState.tabSize.of(2),
    indentOnInput(),
    syntaxHighlighting(highlight),
    bracketMatching(),
    closeBrackets(),
    highlightActiveLine(),
    EditorView.lineWrapping,
    highlightSelectionMatches(),
    language(config.file),
    autocompletion(journey ? { override: [serverCompletion], activateOnTypingDelay: 80 } : {}),
    linter(onCheck, { delay: 300 }),
    lintGutter(),
    readOnly.of(EditorState.readOnly.of(false)),
    keymap.of([
      { key: "Mod-s", preventDefault: true, run: () => (onSave(), true) },
      ...closeBracketsKeymap,
      ...completionKeymap,
      ...lintKeymap,
      ...defaultKeymap,
      ...searchKeymap,
      ...historyKeymap,
      ...foldKeymap,
      indentWithTab,
    ]),
    // tabindex: the text is focusable in the eyes of checkers too (axe: scrollable-region-focusable)
    EditorView.contentAttributes.of({ "aria-label": label, "aria-describedby": "editor-help", tabindex: "0" }),
    EditorView.updateListener.of((update) => {
      if (update.docChanged) onChange(update);
      if (update.docChanged || update.selectionSet) onCursor(update.state);
    }),
  ];
  return new EditorView({ parent, state: EditorState.create({ doc, extensions }) });
}

// A diagnostic's line and column (1-based, as validate says them) as a range in the document:
// from the column to the end of the word there (at least one character, never past the line).
export function rangeOf(doc, line, col) {
  const n = Math.min(Math.max(1, line || 1), doc.lines);
  const l = doc.line(n);
  const from = Math.min(l.from + Math.max(0, (col || 1) - 1), l.to);
  const rest = doc.sliceString(from, l.to);
  const word = rest.match(/^[^\s,:{}[\]]+/);
  const to = word ? from + word[0].length : Math.min(l.to, from + 1);
  return { from, to: Math.max(to, from) };
}
