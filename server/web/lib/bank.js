// Draws the locker bank as the citizen and the clerk see it: one box per door, placed at the
// column and row the locker map gives it; taller rows for bigger doors.

const WEIGHT = { S: 2, M: 3, L: 4 };

/**
 * Fills `container` with one element per compartment, made by `makeCell(compartment)`.
 * Returns a Map number -> element.
 */
export function drawBank(container, layout, makeCell, { proportional = true } = {}) {
  container.replaceChildren();
  container.classList.add('bank');
  container.style.gridTemplateColumns = `repeat(${layout.columns}, minmax(0, 1fr))`;
  const rows = Array.from({ length: layout.rows }, () => 1);
  for (const c of layout.compartments) rows[c.row - 1] = Math.max(rows[c.row - 1], WEIGHT[c.size] ?? 2);
  // Proportional rows look like the real bank; a console that lists sizes in words saves the space.
  container.style.gridTemplateRows = proportional ? rows.map((w) => `${w}fr`).join(' ') : `repeat(${layout.rows}, auto)`;
  const cells = new Map();
  for (const c of layout.compartments) {
    const el = makeCell(c);
    el.style.gridColumn = String(c.column);
    el.style.gridRow = String(c.row);
    el.dataset.number = String(c.number);
    container.append(el);
    cells.set(c.number, el);
  }
  return cells;
}

export async function fetchLayout() {
  const res = await fetch('/api/v1/kiosk/layout', { cache: 'no-store' });
  if (!res.ok) throw new Error(`layout: ${res.status}`);
  return res.json();
}
