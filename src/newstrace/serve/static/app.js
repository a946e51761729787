// newstrace: the little script the pages use. "/" focuses the search box; nothing else needs script.
document.addEventListener("keydown", function (e) {
  var box = document.getElementById("q");
  if (e.key === "/" && box && document.activeElement.tagName !== "INPUT") {
    e.preventDefault();
    box.focus();
  }
});
