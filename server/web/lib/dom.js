// Builds elements from data without ever parsing data as HTML (dossier codes come from a scanner).
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** A button that asks for a second press within a few seconds before doing something drastic. */
export function confirmButton({ label, confirmLabel, className = 'btn danger small', onConfirm, dataset }) {
  let armed = false;
  let timer = 0;
  const b = h('button', { type: 'button', class: className, text: label, dataset });
  const disarm = () => {
    armed = false;
    b.textContent = label;
    b.classList.remove('armed');
  };
  b.addEventListener('click', async () => {
    if (!armed) {
      armed = true;
      b.textContent = confirmLabel;
      b.classList.add('armed');
      timer = setTimeout(disarm, 5000);
      return;
    }
    clearTimeout(timer);
    disarm();
    b.disabled = true;
    try {
      await onConfirm();
    } finally {
      b.disabled = false;
    }
  });
  return b;
}
