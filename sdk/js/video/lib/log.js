// Video.Logger: named loggers with levels, as the loglevel module that
// twilio-video exposes (getLogger, setLevel, getLevel, levels, methods).
const LEVELS = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4, SILENT: 5 };
const METHODS = ['trace', 'debug', 'info', 'warn', 'error'];

function toLevel(level) {
  if (typeof level === 'number' && level >= 0 && level <= 5) return level;
  if (typeof level === 'string') {
    const name = level.toUpperCase() === 'OFF' ? 'SILENT' : level.toUpperCase();
    if (name in LEVELS) return LEVELS[name];
  }
  throw new TypeError(`log level must be one of trace, debug, info, warn, error, silent, not ${level}`);
}

class Logger {
  constructor(name, level) {
    this.name = name;
    this.levels = LEVELS;
    this.methodFactory = (method) => (...args) => console[method === 'trace' ? 'debug' : method](
      `[${String(this.name)}]`, ...args);
    this.setLevel(level);
  }

  getLevel() {
    return this._level;
  }

  setLevel(level) {
    this._level = toLevel(level);
    METHODS.forEach((method, i) => {
      this[method] = i >= this._level ? this.methodFactory(method, this._level, this.name) : () => {};
    });
    this.log = this.debug;
  }

  setDefaultLevel(level) {
    this.setLevel(level);
  }

  resetLevel() {
    this.setLevel('warn');
  }

  enableAll() {
    this.setLevel('trace');
  }

  disableAll() {
    this.setLevel('silent');
  }

  rebuild() {
    this.setLevel(this._level);
  }
}

class RootLogger extends Logger {
  constructor() {
    super('twilio-video', 'warn');
    this._loggers = new Map();
  }

  // getLogger('twilio-video') is the SDK's own logger: this one.
  getLogger(name) {
    if (name === this.name) return this;
    if (!this._loggers.has(name)) this._loggers.set(name, new Logger(name, this._level));
    return this._loggers.get(name);
  }

  getLoggers() {
    return Object.fromEntries(this._loggers);
  }

  noConflict() {
    return this;
  }
}

export const rootLogger = new RootLogger();

// The SDK logs through the root logger: Video.Logger.setLevel() and
// connect()'s logLevel set how much it says.
export const log = rootLogger;

export function setLogLevel(level) {
  if (level === undefined) return;
  log.setLevel(typeof level === 'object' ? level.default || 'warn' : level);
}
