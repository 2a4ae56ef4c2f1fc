// Rolecall dashboard: a little hand-written script. Every page works without
// it; it adds copy buttons, confirmation dialogs, the role filter, the
// permission picker's API filter, and selects "Choose scopes" when a scope
// is ticked.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  // Copy buttons: <button data-copy="ID"> copies the value of the element ID.
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var label = button.textContent;
    button.addEventListener("click", function () {
      var field = document.getElementById(button.getAttribute("data-copy"));
      if (!field) return;
      var done = function () {
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = label; }, 2000);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () { field.select(); });
      } else {
        field.focus();
        field.select();
        try { if (document.execCommand("copy")) done(); } catch (e) { /* the text stays selected */ }
      }
    });
  });

  // Confirmation: a form with data-confirm asks in a <dialog> first and then
  // sends confirm=yes. Without the script the server asks on a page instead.
  var dialog = document.getElementById("confirm-dialog");
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!dialog || typeof dialog.showModal !== "function") return;
      event.preventDefault();
      document.getElementById("confirm-message").textContent = form.getAttribute("data-confirm");
      var ok = document.getElementById("confirm-ok");
      var submitter = event.submitter;
      ok.textContent = submitter && submitter.getAttribute("aria-label") ? submitter.getAttribute("aria-label") : "Confirm";
      dialog.returnValue = "";
      dialog.onclose = function () {
        if (dialog.returnValue !== "ok") {
          if (submitter) submitter.focus();
          return;
        }
        var yes = document.createElement("input");
        yes.type = "hidden";
        yes.name = "confirm";
        yes.value = "yes";
        form.appendChild(yes);
        form.submit();
      };
      dialog.showModal();
    });
  });

  // Role filter: <input data-filter="LIST"> hides the list's items whose
  // data-filter-text does not contain what is typed. Enter still searches all
  // roles on the server.
  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("data-filter"));
    var none = document.getElementById(input.getAttribute("data-filter") + "-none");
    if (!list) return;
    var apply = function () {
      var q = input.value.trim().toLowerCase();
      var shown = 0;
      list.querySelectorAll("li").forEach(function (li) {
        var match = (li.getAttribute("data-filter-text") || li.textContent).toLowerCase().indexOf(q) !== -1;
        li.hidden = !match;
        if (match) shown++;
      });
      if (none) none.hidden = shown !== 0;
    };
    input.addEventListener("input", apply);
  });

  // Scope checkboxes: <fieldset data-preset-custom="RADIO"> ticks the radio
  // RADIO ("Choose scopes") when one of its boxes is ticked, since the
  // server reads the boxes only with that choice.
  document.querySelectorAll("fieldset[data-preset-custom]").forEach(function (set) {
    var radio = document.getElementById(set.getAttribute("data-preset-custom"));
    if (!radio || radio.disabled) return;
    set.addEventListener("change", function (event) {
      if (event.target.checked) radio.checked = true;
    });
  });

  // Permission picker: choosing an API narrows the scope list to its scopes.
  // Each scope's value names its API too, so the form is whole either way.
  document.querySelectorAll("form[data-picker]").forEach(function (form) {
    var api = form.querySelector("select[data-picker-api]");
    var scope = form.querySelector("select[data-picker-scope]");
    if (!api || !scope) return;
    var apply = function () {
      var chosen = api.value;
      scope.querySelectorAll("optgroup").forEach(function (group) {
        var show = chosen === "" || group.getAttribute("data-api") === chosen;
        group.hidden = !show;
        group.disabled = !show;
      });
      var selected = scope.selectedOptions[0];
      if (selected && selected.parentElement.disabled) scope.value = "";
    };
    api.addEventListener("change", apply);
    apply();
  });
});
