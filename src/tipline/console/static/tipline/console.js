// The console's script, loaded from a file (no inline script: the pages run under a strict
// Content-Security-Policy). Every page works without it; it adds keyboard navigation of
// the queue, error messages for partial updates, and the measured exposure timer.
(function () {
  "use strict";

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || (target && target.isContentEditable);
  }

  // --- The queue: j/k or arrows move, c claims or releases, Enter opens. ---------------
  function queueRows() {
    return Array.prototype.slice.call(
      document.querySelectorAll("table[data-keyboard=queue] tbody tr[data-item]")
    );
  }

  function focusRow(index) {
    var rows = queueRows();
    if (!rows.length) return;
    var row = rows[Math.max(0, Math.min(rows.length - 1, index))];
    row.focus();
    row.scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) return;
    var rows = queueRows();
    if (!rows.length) return;
    var at = rows.indexOf(document.activeElement && document.activeElement.closest("tr[data-item]"));
    var key = event.key;
    if (key === "j" || key === "ArrowDown") {
      focusRow(at < 0 ? 0 : at + 1);
    } else if (key === "k" || key === "ArrowUp") {
      focusRow(at < 0 ? 0 : at - 1);
    } else if ((key === "c" || key === "Enter") && at >= 0) {
      var row = rows[at];
      if (key === "Enter") {
        var link = row.querySelector("a[href]");
        if (link) window.location.assign(link.href);
      } else {
        var button = row.querySelector("form button[type=submit]");
        if (button) button.click();
      }
    } else {
      return;
    }
    event.preventDefault();
  });

  // After htmx swaps a queue row (claim, release), keep the keyboard on it.
  document.addEventListener("htmx:afterSwap", function (event) {
    var row = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("tr[data-item]");
    var id = row ? row.getAttribute("data-item") : null;
    var fresh = id && document.querySelector("tr[data-item='" + id + "']");
    if (fresh) fresh.focus();
  });

  // A refused partial update is not swapped in: say why, in the page's alert region.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (!xhr || xhr.status < 400) return;
    event.detail.shouldSwap = false;
    var doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
    var said = doc.querySelector(".error, main p");
    var flash = document.getElementById("flash");
    if (flash) {
      flash.textContent = (said && said.textContent.trim()) || "Refused (" + xhr.status + ")";
      flash.className = "error";
      flash.focus && flash.focus();
    }
  });

  // --- Welfare: measure the time an un-blurred picture is on screen. ------------------
  document.querySelectorAll("form.unblur input[name=measured]").forEach(function (input) {
    input.value = "1"; // this page will send beats: count the first one only, now
  });

  var media = document.querySelector("ul.media[data-beat-url]");
  var shown = document.querySelector("img.original[data-exposure]");
  if (media && shown) {
    var every = (parseFloat(media.getAttribute("data-beat-s")) || 15) * 1000;
    var csrf = document.querySelector("input[name=csrfmiddlewaretoken]");
    var timer = window.setInterval(function () {
      if (document.visibilityState !== "visible") return; // not on screen: not counted
      fetch(media.getAttribute("data-beat-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrf ? csrf.value : "" },
      })
        .then(function (response) { return response.json(); })
        .then(function (today) {
          if (today.capped) {
            window.clearInterval(timer);
            window.location.reload(); // the page hides media once the cap is reached
          }
        })
        .catch(function () { /* the next beat tries again */ });
    }, every);
  }
})();
