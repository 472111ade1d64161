// Counting a drawer by note and coin (the float when a shift opens, the blind count when it
// closes): one number field per denomination of the register's currency, and the total.
import { money } from "/static/shared/api.js";

/** Fill `grid` with the currency's denominations; answers `counts()` ({value: n}, only the
 * counted ones) and keeps `total` showing the sum. */
export function countGrid(grid, total, here) {
  const table = JSON.parse(document.getElementById("denomination-table").textContent);
  for (const value of table[here.currency] || []) {
    const label = document.createElement("label");
    label.className = "denomination";
    label.textContent = money(value, here.currency, here.locale);
    const input = document.createElement("input");
    input.type = "number";
    input.min = "0";
    input.inputMode = "numeric";
    input.value = "0";
    input.dataset.value = String(value);
    input.name = `d${value}`;
    label.append(input);
    grid.append(label);
  }
  const counts = () => Object.fromEntries(
    [...grid.querySelectorAll("input")]
      .map((i) => [i.dataset.value, Number.parseInt(i.value || "0", 10)])
      .filter(([, n]) => n > 0),
  );
  const refresh = () => {
    const sum = Object.entries(counts()).reduce((acc, [v, n]) => acc + Number(v) * n, 0);
    total.textContent = money(sum, here.currency, here.locale);
  };
  grid.addEventListener("input", refresh);
  refresh();
  return counts;
}
