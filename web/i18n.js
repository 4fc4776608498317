// The page's words in English and Spanish.  The language is the browser's
// first one we have (navigator.languages), or what the person picked with
// the language switch (kept in localStorage).  Elements name their text
// with data-i18n (text), data-i18n-label (aria-label and title) and
// data-i18n-placeholder; t() gives a string, with {name} filled in.

const STRINGS = {
  en: {
    'lang.name': 'English',
    'lang.label': 'Language',
    'app.title': 'Video visit',
    'pre.title': 'Join your video visit',
    'pre.intro': 'Check your camera and microphone, then join.',
    'pre.name': 'Your name',
    'pre.nameHint': 'The others see this name.',
    'pre.room': 'Visit name',
    'pre.roomHint': 'As written in your invitation.',
    'pre.passcode': 'Passcode (if you were given one)',
    'pre.create': 'I am starting this visit (clinic staff)',
    'pre.devices': 'Camera, microphone and speaker',
    'pre.camera': 'Camera',
    'pre.microphone': 'Microphone',
    'pre.speaker': 'Speaker',
    'pre.testSpeaker': 'Play a test sound',
    'pre.join': 'Join the visit',
    'pre.joining': 'Joining…',
    'pre.level': 'Microphone level',
    'pre.preview': 'Your camera preview',
    'pre.cameraOff': 'Your camera is off',
    'pre.noCamera': 'No camera in use: the others will see your name',
    'dev.none': 'None found',
    'dev.deviceN': '{kind} {n}',
    'help.denied': 'Your browser is not allowed to use the camera and microphone. Click the camera icon in the address bar, choose "Allow", then reload the page. You can also join without them: the others will see your name.',
    'help.deniedVideo': 'Your browser is not allowed to use the camera. You can join without it: the others will see your name. To allow it, click the camera icon in the address bar and reload.',
    'help.deniedAudio': 'Your browser is not allowed to use the microphone, so the others will not hear you. To allow it, click the camera icon in the address bar and reload.',
    'help.noDevices': 'No camera or microphone was found. Plug one in and reload the page, or join without them: the others will see your name.',
    'help.noCamera': 'No camera was found. You can join without one: the others will see your name.',
    'help.noMicrophone': 'No microphone was found, so the others will not hear you. Plug one in and reload the page.',
    'help.busy': 'Your camera or microphone is being used by another program. Close it (for example another video call) and reload the page.',
    'help.insecure': 'This page must be opened over a secure connection (https) to use the camera and microphone.',
    'err.noName': 'Please type your name.',
    'err.noRoom': 'Please type the name of your visit.',
    'err.notStarted': 'This visit has not started yet. Check the visit name, or try again when your clinic has started it.',
    'err.passcodeNeeded': 'This visit needs a passcode. Type the passcode from your invitation.',
    'err.passcodeWrong': 'That passcode is not right. Check it and try again.',
    'err.passcodeExpired': 'That passcode has expired. Ask your clinic for a new invitation.',
    'err.closed': 'You can only join this visit from the link your clinic sent you.',
    'err.tooMany': 'Too many tries. Please wait a minute and try again.',
    'err.full': 'This visit is full. Ask your clinic for help.',
    'err.ended': 'This visit has ended.',
    'err.denied': 'The clinic did not let you into this visit.',
    'err.expired': 'Your invitation has expired. Ask your clinic for a new one.',
    'err.offline': 'The visit could not be reached. Check your internet connection and try again.',
    'err.media': 'Your video could not connect. Check your internet connection and try again.',
    'err.other': 'Something went wrong ({detail}). Please try again.',
    'call.label': 'Video visit {room}',
    'call.controls': 'Call controls',
    'call.mute': 'Mute',
    'call.unmute': 'Unmute',
    'call.cameraOff': 'Stop camera',
    'call.cameraOn': 'Start camera',
    'call.share': 'Share screen',
    'call.stopShare': 'Stop sharing',
    'call.people': 'People ({n})',
    'call.layoutSpeaker': 'Speaker view',
    'call.layoutGallery': 'Gallery view',
    'call.settings': 'Settings',
    'call.leave': 'Leave',
    'call.you': '{name} (you)',
    'call.screenOf': 'Screen of {name}',
    'call.micOff': 'Microphone off',
    'call.audioOnly': 'Camera off',
    'call.pin': 'Pin {name}',
    'call.unpin': 'Unpin {name}',
    'call.reconnecting': 'Connection lost. Reconnecting…',
    'call.reconnected': 'Connected again.',
    'call.peopleTitle': 'People in the visit',
    'call.close': 'Close',
    'call.settingsTitle': 'Settings',
    'call.joined': '{name} joined',
    'call.left': '{name} left',
    'call.shareFailed': 'Your screen could not be shared.',
    'call.deviceFailed': 'That device could not be used. Try another one.',
    'call.alone': 'Waiting for the others to join…',
    'call.nextSteps': 'Coming next: waiting room, chat, host controls and recording notice.',
    'q.label': 'Connection: {level} of 5',
    'q.unknown': 'Connection: not measured yet',
    'q.send': 'sending',
    'q.recv': 'receiving',
    'q.rtt': 'round trip {ms} ms',
    'q.loss': 'loss {pct} %',
    'q.rate': '{kbps} kbit/s',
    'q.audio': 'audio',
    'q.video': 'video',
    'post.title': 'You left the visit',
    'post.removed': 'A host removed you from the visit.',
    'post.replaced': 'You joined this visit from another window or device.',
    'post.ended': 'The visit has ended.',
    'post.lost': 'The connection was lost and could not be restored.',
    'post.duration': 'The visit reached its time limit.',
    'post.rejoin': 'Rejoin',
    'post.start': 'Back to start',
  },
  es: {
    'lang.name': 'Español',
    'lang.label': 'Idioma',
    'app.title': 'Consulta por video',
    'pre.title': 'Entre a su consulta por video',
    'pre.intro': 'Revise su cámara y su micrófono y luego entre.',
    'pre.name': 'Su nombre',
    'pre.nameHint': 'Los demás verán este nombre.',
    'pre.room': 'Nombre de la consulta',
    'pre.roomHint': 'Como aparece en su invitación.',
    'pre.passcode': 'Código (si le dieron uno)',
    'pre.create': 'Yo inicio esta consulta (personal de la clínica)',
    'pre.devices': 'Cámara, micrófono y altavoz',
    'pre.camera': 'Cámara',
    'pre.microphone': 'Micrófono',
    'pre.speaker': 'Altavoz',
    'pre.testSpeaker': 'Reproducir un sonido de prueba',
    'pre.join': 'Entrar a la consulta',
    'pre.joining': 'Entrando…',
    'pre.level': 'Nivel del micrófono',
    'pre.preview': 'Vista previa de su cámara',
    'pre.cameraOff': 'Su cámara está apagada',
    'pre.noCamera': 'Sin cámara: los demás verán su nombre',
    'dev.none': 'No se encontró ninguno',
    'dev.deviceN': '{kind} {n}',
    'help.denied': 'Su navegador no tiene permiso para usar la cámara y el micrófono. Haga clic en el icono de la cámara en la barra de direcciones, elija "Permitir" y vuelva a cargar la página. También puede entrar sin ellos: los demás verán su nombre.',
    'help.deniedVideo': 'Su navegador no tiene permiso para usar la cámara. Puede entrar sin ella: los demás verán su nombre. Para permitirla, haga clic en el icono de la cámara en la barra de direcciones y vuelva a cargar.',
    'help.deniedAudio': 'Su navegador no tiene permiso para usar el micrófono, así que los demás no le oirán. Para permitirlo, haga clic en el icono de la cámara en la barra de direcciones y vuelva a cargar.',
    'help.noDevices': 'No se encontró ninguna cámara ni micrófono. Conecte uno y vuelva a cargar la página, o entre sin ellos: los demás verán su nombre.',
    'help.noCamera': 'No se encontró ninguna cámara. Puede entrar sin ella: los demás verán su nombre.',
    'help.noMicrophone': 'No se encontró ningún micrófono, así que los demás no le oirán. Conecte uno y vuelva a cargar la página.',
    'help.busy': 'Otro programa está usando su cámara o su micrófono. Ciérrelo (por ejemplo, otra videollamada) y vuelva a cargar la página.',
    'help.insecure': 'Esta página debe abrirse con una conexión segura (https) para usar la cámara y el micrófono.',
    'err.noName': 'Escriba su nombre.',
    'err.noRoom': 'Escriba el nombre de su consulta.',
    'err.notStarted': 'Esta consulta todavía no ha empezado. Revise el nombre de la consulta o vuelva a intentarlo cuando su clínica la haya iniciado.',
    'err.passcodeNeeded': 'Esta consulta necesita un código. Escriba el código de su invitación.',
    'err.passcodeWrong': 'Ese código no es correcto. Revíselo y vuelva a intentarlo.',
    'err.passcodeExpired': 'Ese código ha caducado. Pida a su clínica una nueva invitación.',
    'err.closed': 'Solo puede entrar a esta consulta con el enlace que le envió su clínica.',
    'err.tooMany': 'Demasiados intentos. Espere un minuto y vuelva a intentarlo.',
    'err.full': 'Esta consulta está llena. Pida ayuda a su clínica.',
    'err.ended': 'Esta consulta ha terminado.',
    'err.denied': 'La clínica no le dejó entrar a esta consulta.',
    'err.expired': 'Su invitación ha caducado. Pida una nueva a su clínica.',
    'err.offline': 'No se pudo conectar con la consulta. Revise su conexión a internet y vuelva a intentarlo.',
    'err.media': 'Su video no se pudo conectar. Revise su conexión a internet y vuelva a intentarlo.',
    'err.other': 'Algo salió mal ({detail}). Vuelva a intentarlo.',
    'call.label': 'Consulta por video {room}',
    'call.controls': 'Controles de la llamada',
    'call.mute': 'Silenciar',
    'call.unmute': 'Activar micrófono',
    'call.cameraOff': 'Apagar cámara',
    'call.cameraOn': 'Encender cámara',
    'call.share': 'Compartir pantalla',
    'call.stopShare': 'Dejar de compartir',
    'call.people': 'Personas ({n})',
    'call.layoutSpeaker': 'Vista de orador',
    'call.layoutGallery': 'Vista de galería',
    'call.settings': 'Ajustes',
    'call.leave': 'Salir',
    'call.you': '{name} (usted)',
    'call.screenOf': 'Pantalla de {name}',
    'call.micOff': 'Micrófono apagado',
    'call.audioOnly': 'Cámara apagada',
    'call.pin': 'Fijar a {name}',
    'call.unpin': 'Dejar de fijar a {name}',
    'call.reconnecting': 'Se perdió la conexión. Reconectando…',
    'call.reconnected': 'Conectado de nuevo.',
    'call.peopleTitle': 'Personas en la consulta',
    'call.close': 'Cerrar',
    'call.settingsTitle': 'Ajustes',
    'call.joined': '{name} entró',
    'call.left': '{name} salió',
    'call.shareFailed': 'No se pudo compartir su pantalla.',
    'call.deviceFailed': 'No se pudo usar ese dispositivo. Pruebe con otro.',
    'call.alone': 'Esperando a que entren los demás…',
    'call.nextSteps': 'Próximamente: sala de espera, chat, controles del anfitrión y aviso de grabación.',
    'q.label': 'Conexión: {level} de 5',
    'q.unknown': 'Conexión: aún sin medir',
    'q.send': 'enviando',
    'q.recv': 'recibiendo',
    'q.rtt': 'ida y vuelta {ms} ms',
    'q.loss': 'pérdida {pct} %',
    'q.rate': '{kbps} kbit/s',
    'q.audio': 'audio',
    'q.video': 'video',
    'post.title': 'Salió de la consulta',
    'post.removed': 'Un anfitrión le sacó de la consulta.',
    'post.replaced': 'Entró a esta consulta desde otra ventana u otro dispositivo.',
    'post.ended': 'La consulta ha terminado.',
    'post.lost': 'Se perdió la conexión y no se pudo recuperar.',
    'post.duration': 'La consulta llegó a su tiempo máximo.',
    'post.rejoin': 'Volver a entrar',
    'post.start': 'Volver al inicio',
  },
};

export const LANGUAGES = Object.keys(STRINGS);
const STORE_KEY = 'hqrooms.lang';

function storedLanguage() {
  try {
    return localStorage.getItem(STORE_KEY);
  } catch {
    return null; // storage blocked: follow the browser
  }
}

// The browser's first language we have, else English.
function browserLanguage() {
  for (const tag of navigator.languages || [navigator.language]) {
    const base = String(tag || '').toLowerCase().split('-')[0];
    if (STRINGS[base]) return base;
  }
  return 'en';
}

let current = STRINGS[storedLanguage()] ? storedLanguage() : browserLanguage();

export const language = () => current;

export function t(key, vars = {}) {
  const s = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
}

// Puts the current language's words into `root`'s marked elements.
export function translate(root = document) {
  document.documentElement.lang = current;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-label]')) {
    el.setAttribute('aria-label', t(el.dataset.i18nLabel));
    el.title = t(el.dataset.i18nLabel);
  }
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
}

export function setLanguage(lang) {
  if (!STRINGS[lang]) return;
  current = lang;
  try {
    localStorage.setItem(STORE_KEY, lang);
  } catch {
    // storage blocked: the choice lasts for this page
  }
}
