// MathJax 3, shipped inside the site (javascripts/mathjax/), renders the
// \( \) and \[ \] spans that pymdownx.arithmatex leaves in the pages.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex",
  },
};
