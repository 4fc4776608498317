// The page's icons: small inline SVGs drawn for this app (24x24, stroke in
// the text colour), always aria-hidden: the button or element around an
// icon carries its label.
const svg = (body) => `<svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">${body}</svg>`;

const micBody = '<rect x="9" y="3" width="6" height="11" rx="3"/><path d="M5 11a7 7 0 0 0 14 0M12 18v3"/>';
const camBody = '<rect x="3" y="6" width="12" height="12" rx="2"/><path d="M15 10l6-3v10l-6-3z"/>';
const slash = '<path d="M3 3l18 18"/>';

export const icons = {
  mic: svg(micBody),
  micOff: svg(micBody + slash),
  cam: svg(camBody),
  camOff: svg(camBody + slash),
  screen: svg('<rect x="3" y="4" width="18" height="12" rx="2"/><path d="M8 20h8M12 16v4M12 13V7M9 10l3-3 3 3"/>'),
  screenStop: svg('<rect x="3" y="4" width="18" height="12" rx="2"/><path d="M8 20h8M12 16v4M9 7l6 6M15 7l-6 6"/>'),
  people: svg('<circle cx="9" cy="8" r="3"/><path d="M3 20a6 6 0 0 1 12 0"/><circle cx="17" cy="9" r="2.5"/><path d="M16 14.5a5 5 0 0 1 5 5.5"/>'),
  gallery: svg('<rect x="3" y="3" width="8" height="8" rx="1"/><rect x="13" y="3" width="8" height="8" rx="1"/><rect x="3" y="13" width="8" height="8" rx="1"/><rect x="13" y="13" width="8" height="8" rx="1"/>'),
  speaker: svg('<rect x="3" y="3" width="18" height="12" rx="1"/><rect x="3" y="17" width="5" height="4" rx="1"/><rect x="9.5" y="17" width="5" height="4" rx="1"/><rect x="16" y="17" width="5" height="4" rx="1"/>'),
  settings: svg('<circle cx="12" cy="12" r="3"/><path d="M12 2v3M12 19v3M2 12h3M19 12h3M4.9 4.9l2.1 2.1M17 17l2.1 2.1M4.9 19.1L7 17M17 7l2.1-2.1"/>'),
  leave: svg('<path d="M3 15c5-5 13-5 18 0l-2 3-4-1.5v-3a9 9 0 0 0-6 0v3L5 18z"/>'),
  pin: svg('<path d="M9 3h6l-1 6 3 3H7l3-3zM12 12v9"/>'),
  close: svg('<path d="M6 6l12 12M18 6L6 18"/>'),
  // the chat panel (web/chat.js)
  chat: svg('<path d="M4 5h16v11H9l-5 4z"/>'),
  send: svg('<path d="M4 12l16-8-6 16-2-6z"/>'),
  attach: svg('<path d="M20 11l-8 8a5 5 0 0 1-7-7l8-8a3.5 3.5 0 0 1 5 5l-8 8a2 2 0 0 1-3-3l7-7"/>'),
  file: svg('<path d="M6 3h8l4 4v14H6z"/><path d="M14 3v4h4"/>'),
};
