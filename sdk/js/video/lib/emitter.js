// A small EventEmitter with the methods twilio-video's objects inherit from
// Node's `events` module (on, once, off, emit, ...), for the browser.
export class EventEmitter {
  constructor() {
    Object.defineProperty(this, '_listeners', { value: new Map(), enumerable: false });
  }

  on(event, listener) {
    if (!this._listeners.has(event)) this._listeners.set(event, []);
    this._listeners.get(event).push(listener);
    return this;
  }

  addListener(event, listener) {
    return this.on(event, listener);
  }

  once(event, listener) {
    const wrapper = (...args) => {
      this.off(event, wrapper);
      listener.apply(this, args);
    };
    wrapper.listener = listener;
    return this.on(event, wrapper);
  }

  off(event, listener) {
    const list = this._listeners.get(event);
    if (!list) return this;
    const i = list.findIndex((l) => l === listener || l.listener === listener);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this._listeners.delete(event);
    return this;
  }

  removeListener(event, listener) {
    return this.off(event, listener);
  }

  removeAllListeners(event) {
    if (event === undefined) this._listeners.clear();
    else this._listeners.delete(event);
    return this;
  }

  listenerCount(event) {
    return (this._listeners.get(event) || []).length;
  }

  listeners(event) {
    return (this._listeners.get(event) || []).map((l) => l.listener || l);
  }

  eventNames() {
    return [...this._listeners.keys()];
  }

  // Calls every listener; one that throws does not stop the others (its
  // error is reported asynchronously, as an uncaught error would be).
  emit(event, ...args) {
    const list = this._listeners.get(event);
    if (!list) return false;
    for (const listener of [...list]) {
      try {
        listener.apply(this, args);
      } catch (err) {
        setTimeout(() => { throw err; });
      }
    }
    return true;
  }
}
