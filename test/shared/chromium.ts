/**
 * Where the Chromium tests find Debian's `chromium`, and the flags they launch it with (through
 * playwright-core): headless on a machine with no network beyond loopback. Without the
 * background-networking flags Chromium floods a closed network with connections.
 */
export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
