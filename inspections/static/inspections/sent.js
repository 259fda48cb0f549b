/* After the server stored an inspection, the draft kept in the browser for it is no longer needed. */
document.querySelectorAll("[data-clear-draft]").forEach(function (marker) {
  try { localStorage.removeItem(marker.dataset.clearDraft); } catch (e) { /* storage unavailable */ }
});
