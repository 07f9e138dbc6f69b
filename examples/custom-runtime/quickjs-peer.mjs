// The host side of the QuickJS boundary: a QuickJS context with the codec bundle and guest.js
// loaded, a random source and a clock injected, and a proxy that looks like a codec
// `Connection` (receiveData, receiveEof, send, takeEvents, takeOutput, …) so the host can drive
// the connection inside QuickJS exactly as it drives one of its own.
import { readFileSync } from 'node:fs';
import { getQuickJS } from 'quickjs-emscripten';

const GUEST = readFileSync(new URL('./guest.js', import.meta.url), 'utf8');

/** An ArrayBuffer holding exactly `bytes` (copied if `bytes` is a view into a larger buffer). */
function exactBuffer(bytes) {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.slice().buffer;
}

/** JSON reviver for what guest.js sends: {"$bytes": [..]} → Uint8Array, {"$headers": [..]} → pairs. */
const reviver = (key, value) => {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value.$bytes)) return Uint8Array.from(value.$bytes);
  if (Array.isArray(value.$headers)) return value.$headers;
  return value;
};
const replacer = (key, value) => (value instanceof Uint8Array ? { $bytes: Array.from(value) } : value);

/**
 * Start a QuickJS context running `bundle` (the codec as one script defining `WsCodec`) and guest.js.
 * @param {{ bundle: string, random: (bytes: Uint8Array) => void, now: () => number }} host
 *   what the host lends the engine: a random source and a clock
 */
export async function startQuickJS({ bundle, random, now }) {
  const QuickJS = await getQuickJS();
  const vm = QuickJS.newContext();
  const calls = { random: 0, randomBytes: 0, now: 0 };

  // Inject __host.random(n) and __host.now(): the engine's only source of entropy and time.
  const hostObject = vm.newObject();
  const randomFn = vm.newFunction('random', (nHandle) => {
    const bytes = new Uint8Array(vm.getNumber(nHandle));
    random(bytes);
    calls.random++;
    calls.randomBytes += bytes.length;
    return vm.newArrayBuffer(bytes.buffer);
  });
  const nowFn = vm.newFunction('now', () => {
    calls.now++;
    return vm.newNumber(now());
  });
  vm.setProp(hostObject, 'random', randomFn);
  vm.setProp(hostObject, 'now', nowFn);
  vm.setProp(vm.global, '__host', hostObject);
  randomFn.dispose();
  nowFn.dispose();
  hostObject.dispose();

  const evaluate = (code, filename) => {
    const result = vm.evalCode(code, filename);
    if (result.error) throw guestError(result.error);
    result.value.dispose();
  };
  function guestError(handle) {
    const dumped = vm.dump(handle);
    handle.dispose();
    const error = new Error(
      typeof dumped === 'object' && dumped !== null ? `${dumped.name}: ${dumped.message}` : String(dumped),
    );
    error.name = 'QuickJSError';
    return error;
  }

  evaluate(bundle, 'ws-codec.js');
  evaluate(GUEST, 'guest.js');
  const guest = vm.getProp(vm.global, 'guest');

  /** Call guest[name](...args); returns the result handle (the caller disposes it). */
  function call(name, ...args) {
    const fn = vm.getProp(guest, name);
    const handles = args.map((arg) =>
      typeof arg === 'string'
        ? vm.newString(arg)
        : arg instanceof Uint8Array
          ? vm.newArrayBuffer(exactBuffer(arg))
          : vm.undefined,
    );
    const result = vm.callFunction(fn, guest, ...handles);
    fn.dispose();
    for (const handle of handles) handle.dispose();
    if (result.error) throw guestError(result.error);
    return result.value;
  }
  const callDump = (name, ...args) => {
    const handle = call(name, ...args);
    const value = vm.dump(handle);
    handle.dispose();
    return value;
  };
  const callVoid = (name, ...args) => call(name, ...args).dispose();

  /** The guest's connection, shaped like a codec Connection. */
  const connection = {
    receiveData: (bytes) => callVoid('receiveData', bytes),
    receiveEof: () => callVoid('receiveEof'),
    send: (command) => callVoid('send', JSON.stringify(command, replacer)),
    takeEvents: () => JSON.parse(callDump('takeEvents'), reviver),
    takeOutput() {
      const list = call('takeOutput');
      const outputs = [];
      const length = vm.getLength(list) ?? 0;
      for (let i = 0; i < length; i++) {
        const item = vm.getProp(list, i);
        const typeHandle = vm.getProp(item, 'type');
        const type = vm.getString(typeHandle);
        typeHandle.dispose();
        if (type === 'write') {
          const dataHandle = vm.getProp(item, 'data');
          const view = vm.getArrayBuffer(dataHandle);
          outputs.push({ type, data: view.value.slice() }); // copy out of the QuickJS heap
          view.dispose();
          dataHandle.dispose();
        } else {
          outputs.push({ type });
        }
        item.dispose();
      }
      list.dispose();
      return outputs;
    },
    nextDeadline: () => callDump('nextDeadline'),
    tick: () => callVoid('tick'),
    get state() {
      return callDump('state');
    },
    get finished() {
      return callDump('finished');
    },
  };

  return {
    /** `typeof` of host globals, as seen inside QuickJS. */
    environment: () => JSON.parse(callDump('environment')),
    /** Evaluate an expression inside QuickJS and return its (JSON-able) value. */
    evaluate(expression) {
      const result = vm.evalCode(expression, 'eval.js');
      if (result.error) throw guestError(result.error);
      const value = vm.dump(result.value);
      result.value.dispose();
      return value;
    },
    /** How often the engine called the injected random source and clock. */
    calls,
    client(url, options = {}) {
      callVoid('client', url, JSON.stringify(options));
      return connection;
    },
    server(options = {}) {
      callVoid('server', JSON.stringify(options));
      return connection;
    },
    dispose() {
      guest.dispose();
      vm.dispose();
    },
  };
}
