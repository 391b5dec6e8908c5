// The region picker: an <input data-region-picker> holding a 6-digit region code becomes a search
// box (name, code or pinyin: "石家庄", "130102", "shijiazhuang", "sjz") above three cascading
// selects (province, city, county), all writing the code back into the input, which is then
// hidden. Without JavaScript the input stays as it was and takes the code typed.
// Answers come from /regions/lookup/ (portal.shell.views.region_lookup), inside what the user may pick.
(function () {
  "use strict";
  const text = document.body.dataset;
  const levels = [text.pickerProvince, text.pickerCity, text.pickerCounty];
  const levelNames = { province: text.pickerProvince, city: text.pickerCity, county: text.pickerCounty };
  let counter = 0;

  function lookup(url, params) {
    const query = new URLSearchParams(params).toString();
    return fetch(url + "?" + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { results: [] }; })
      .then(function (data) { return data.results || []; })
      .catch(function () { return []; });
  }

  function element(tag, attrs, content) {
    const node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (content) { node.textContent = content; }
    return node;
  }

  function enhance(input) {
    if (input.dataset.pickerBound) { return; }
    input.dataset.pickerBound = "1";
    const url = input.dataset.regionPicker || text.pickerUrl;
    const id = input.id || "region-" + (++counter);
    const box = element("div", { class: "region-picker", "data-testid": "region-picker" });
    const search = element("input", {
      type: "search", id: id, class: "form-control", autocomplete: "off", role: "combobox",
      "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": id + "-results",
      placeholder: text.pickerSearch, "aria-describedby": id + "-chosen",
    });
    const results = element("ul", { id: id + "-results", class: "list-group region-picker-results", role: "listbox", hidden: "" });
    const selects = element("div", { class: "region-picker-levels d-flex flex-wrap gap-1 mt-1" });
    const chosen = element("div", { id: id + "-chosen", class: "form-text region-picker-chosen", "aria-live": "polite" });
    input.removeAttribute("id");
    input.type = "hidden";
    input.after(box);
    box.append(search, results, selects, chosen);

    const cascade = levels.map(function (label, depth) {
      const select = element("select", { class: "form-select form-select-sm", "aria-label": label });
      select.hidden = true;
      select.addEventListener("change", function () { choose(depth, select.value); });
      selects.append(select);
      return select;
    });

    function show(path, code) {
      chosen.textContent = code ? text.pickerChosen + " " + path + " (" + code + ")" : text.pickerNone;
    }

    function fill(depth, regions, selected) {
      const select = cascade[depth];
      // Named by the level listed: a city official's cascade starts at the city, then its counties.
      const name = (regions.length && levelNames[regions[0].level]) || levels[depth];
      select.setAttribute("aria-label", name);
      select.replaceChildren(element("option", { value: "" }, "— " + name + " —"));
      regions.forEach(function (region) {
        const option = element("option", { value: region.code }, region.name);
        option.dataset.path = region.path;
        if (region.code === selected) { option.selected = true; }
        select.append(option);
      });
      select.hidden = regions.length === 0;
      for (let below = depth + 1; below < cascade.length; below++) { cascade[below].hidden = true; cascade[below].replaceChildren(); }
    }

    function choose(depth, code) {
      const option = cascade[depth].selectedOptions[0];
      if (!code) {
        // Back to the level above (or nothing chosen at the top).
        const above = depth > 0 ? cascade[depth - 1].value : "";
        input.value = above;
        show(above ? cascade[depth - 1].selectedOptions[0].dataset.path : "", above);
        fill(depth, Array.from(cascade[depth].options).slice(1).map(function (o) {
          return { code: o.value, name: o.textContent, path: o.dataset.path };
        }));
        input.dispatchEvent(new Event("change", { bubbles: true }));
        return;
      }
      input.value = code;
      show(option ? option.dataset.path || option.textContent : code, code);
      input.dispatchEvent(new Event("change", { bubbles: true }));
      if (depth + 1 < cascade.length) {
        lookup(url, { parent: code }).then(function (regions) { fill(depth + 1, regions); });
      }
    }

    // Open the cascade at the chosen region: each level's list, with the region's ancestors selected.
    function openAt(code) {
      const prefixes = code ? [code.slice(0, 2) + "0000", code.slice(0, 4) + "00", code] : [];
      function step(depth, parent) {
        if (depth >= cascade.length) { return; }
        lookup(url, parent ? { parent: parent } : {}).then(function (regions) {
          if (!regions.length) { return; }
          const match = regions.find(function (r) { return prefixes.indexOf(r.code) !== -1; });
          fill(depth, regions, match ? match.code : "");
          if (match && match.code !== code) { step(depth + 1, match.code); }
          else if (match && depth + 1 < cascade.length) {
            show(match.path, match.code);
            lookup(url, { parent: match.code }).then(function (below) { fill(depth + 1, below); });
          }
        });
      }
      step(0, "");
    }

    let timer = null;
    let active = -1;
    function closeResults() { results.hidden = true; search.setAttribute("aria-expanded", "false"); active = -1; }
    function pick(region) {
      search.value = "";
      closeResults();
      input.value = region.code;
      show(region.path, region.code);
      input.dispatchEvent(new Event("change", { bubbles: true }));
      openAt(region.code);
    }
    search.addEventListener("input", function () {
      clearTimeout(timer);
      const typed = search.value.trim();
      if (!typed) { closeResults(); return; }
      timer = setTimeout(function () {
        lookup(url, { q: typed }).then(function (regions) {
          results.replaceChildren();
          regions.forEach(function (region, index) {
            const item = element("li", { class: "list-group-item list-group-item-action", role: "option", id: id + "-option-" + index, tabindex: "-1" });
            item.append(element("span", {}, region.name), element("small", { class: "text-muted ms-2" }, region.path + " · " + region.code));
            item.addEventListener("mousedown", function (event) { event.preventDefault(); pick(region); });
            item._region = region;
            results.append(item);
          });
          if (!regions.length) { results.append(element("li", { class: "list-group-item text-muted", role: "option", "aria-disabled": "true" }, text.pickerNothing)); }
          results.hidden = false;
          search.setAttribute("aria-expanded", "true");
        });
      }, 200);
    });
    search.addEventListener("keydown", function (event) {
      const items = Array.from(results.querySelectorAll("[role=option]")).filter(function (item) { return item._region; });
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!items.length) { return; }
        event.preventDefault();
        active = (active + (event.key === "ArrowDown" ? 1 : -1) + items.length) % items.length;
        items.forEach(function (item, index) { item.classList.toggle("active", index === active); item.setAttribute("aria-selected", index === active ? "true" : "false"); });
        search.setAttribute("aria-activedescendant", items[active].id);
      } else if (event.key === "Enter") {
        if (items.length) { event.preventDefault(); pick(items[Math.max(active, 0)]._region); }
      } else if (event.key === "Escape") {
        closeResults();
      }
    });
    search.addEventListener("blur", function () { setTimeout(closeResults, 150); });

    show(input.value.trim(), input.value.trim());
    openAt(input.value.trim());
  }

  function apply(root) { root.querySelectorAll("input[data-region-picker]").forEach(enhance); }
  document.addEventListener("DOMContentLoaded", function () { apply(document); });
  document.addEventListener("htmx:load", function (event) { apply(event.target); });
})();
