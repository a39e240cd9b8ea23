// Typesets the formulas of pymdownx.arithmatex (generic mode) with the KaTeX vendored
// in javascripts/katex/, so that they render without a network. Inline formulas
// arrive as <span class="arithmatex">\(...\)</span>, display ones as
// <div class="arithmatex">\[...\]</div> (or a bare \begin{...} environment).
function ttnnRenderMath(root) {
  root.querySelectorAll(".arithmatex").forEach((el) => {
    if (el.dataset.typeset) return; // instant navigation re-runs this on kept nodes
    let tex = el.textContent.trim();
    let display = el.tagName === "DIV";
    if (tex.startsWith("\\(") && tex.endsWith("\\)")) {
      tex = tex.slice(2, -2);
      display = false;
    } else if (tex.startsWith("\\[") && tex.endsWith("\\]")) {
      tex = tex.slice(2, -2);
      display = true;
    }
    // throwOnError: false shows a formula KaTeX cannot parse in red, not a blank.
    katex.render(tex, el, { displayMode: display, throwOnError: false });
    el.dataset.typeset = "1";
  });
}
if (typeof document$ !== "undefined") {
  document$.subscribe(() => ttnnRenderMath(document)); // Material's page-load stream
} else {
  document.addEventListener("DOMContentLoaded", () => ttnnRenderMath(document));
}
