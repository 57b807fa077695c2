// sseaudit HTML report: filters, expand/collapse and drill-down links. The
// page is complete without this script; it only adds interaction. It must
// not fetch anything (the page's Content-Security-Policy forbids it anyway).
(function () {
  "use strict";

  function $all(sel, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(sel));
  }

  // Open a <details> and every <details> around it, then scroll to it.
  function reveal(el) {
    if (!el) {
      return;
    }
    for (var p = el; p; p = p.parentElement) {
      if (p.tagName === "DETAILS") {
        p.open = true;
      }
    }
    el.scrollIntoView({ block: "start" });
  }

  function fromHash() {
    var id = window.location.hash.slice(1);
    try {
      id = decodeURIComponent(id);
    } catch (e) {
      return; // a malformed fragment names nothing here
    }
    if (id) {
      reveal(document.getElementById(id));
    }
  }
  window.addEventListener("hashchange", fromHash);
  fromHash();

  // Clicking a bar of the bucket chart opens that bucket's drill-down.
  $all("svg [data-target]").forEach(function (el) {
    el.addEventListener("click", function () {
      reveal(document.getElementById(el.getAttribute("data-target")));
    });
  });

  // "expand all" / "collapse all" for the details of one section.
  $all("[data-toggle-all]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var root = document.querySelector(btn.getAttribute("data-toggle-all"));
      if (!root) {
        return;
      }
      var open = btn.textContent.indexOf("expand") === 0;
      $all("details.finding:not(.hidden), details.bucket", root).forEach(function (d) {
        if (!d.closest(".hidden")) {
          d.open = open;
        }
      });
      btn.textContent = open ? "collapse all" : "expand all";
    });
  });

  // Findings filter: severities, waived, free text.
  var list = $all("#findings details.finding");
  var sevBoxes = $all("#filters input[data-sev]");
  var waived = document.getElementById("show-waived");
  var search = document.getElementById("fsearch");
  var shown = document.getElementById("fshown");

  function apply() {
    var sevs = {};
    sevBoxes.forEach(function (b) {
      sevs[b.getAttribute("data-sev")] = b.checked;
    });
    var q = search ? search.value.trim().toLowerCase() : "";
    var n = 0;
    list.forEach(function (d) {
      var sev = d.getAttribute("data-sev");
      var ok = sevs[sev] !== false;
      if (ok && waived && !waived.checked && d.getAttribute("data-waived") === "true") {
        ok = false;
      }
      // A finding shown by its message only carries no data-search: its
      // text is what it shows.
      if (ok && q && (d.getAttribute("data-search") || d.textContent.toLowerCase()).indexOf(q) < 0) {
        ok = false;
      }
      d.classList.toggle("hidden", !ok);
      if (ok) {
        n++;
      }
    });
    if (shown) {
      shown.textContent = n === list.length ? "" : n + " of " + list.length + " shown";
    }
  }
  sevBoxes.forEach(function (b) {
    b.addEventListener("change", apply);
  });
  if (waived) {
    waived.addEventListener("change", apply);
  }
  if (search) {
    search.addEventListener("input", apply);
  }
})();
