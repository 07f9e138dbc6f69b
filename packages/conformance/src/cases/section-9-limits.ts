// 9 Limits/performance: large messages whole, fragmented and chopped, and round-trip series.
// Each case times itself (the duration is reported). `quick` divides message sizes by 16 and
// round-trip counts by 10, for CI; the case ids and what they check stay the same.
import { equalBytes, repeatTo } from '../bytes.ts';
import type { CaseDef, CaseRun } from '../case.ts';
import { Close, Op } from '../frame.ts';
import type { Observed } from '../outcome.ts';
import { KiB, MiB, NORMAL_CLOSE, sizeLabel } from './helpers.ts';

export interface Section9Options {
  quick?: boolean;
}

const TEXT_PATTERN = 'BAsd7&jh23';

/** Judge the one echoed message: same kind, same bytes. Then close. */
function expectEcho(payload: Uint8Array, binary: boolean) {
  return (run: CaseRun, event: Observed): void => {
    if (event.type !== 'message') return;
    if (event.binary !== binary)
      run.result = `Expected ${binary ? 'binary' : 'text'} message with payload, but got ${event.binary ? 'binary' : 'text'}.`;
    else if (event.payload.length !== payload.length)
      run.result = `Expected message with payload of length ${payload.length}, but got ${event.payload.length}.`;
    else if (!equalBytes(event.payload, payload))
      run.result = `Received message of length ${payload.length} with different content.`;
    else {
      run.behavior = 'OK';
      run.result = `Received message of length ${payload.length}.`;
    }
    run.sendClose(Close.normal);
  };
}

function bigMessage(
  id: string,
  description: string,
  payload: Uint8Array,
  binary: boolean,
  wait: number,
  send: (run: CaseRun) => void,
): CaseDef {
  return {
    id,
    description,
    expectation: `Receive echo'ed ${binary ? 'binary' : 'text'} message (with payload as sent).`,
    close: NORMAL_CLOSE,
    exclusive: true,
    limit: wait + 30,
    start(run) {
      run.result = `Did not receive message within ${wait} seconds.`;
      send(run);
      run.closeAfter(wait);
    },
    onEvent: expectEcho(payload, binary),
  };
}

export function section9(options: Section9Options = {}): CaseDef[] {
  const q = options.quick ? 16 : 1;
  const defs: CaseDef[] = [];
  const kinds = [false, true] as const;

  // 9.1 / 9.2: one message, increasing size.
  const sizes: [number, number][] = [
    [64 * KiB, 10],
    [256 * KiB, 10],
    [MiB, 20],
    [4 * MiB, 40],
    [8 * MiB, 80],
    [16 * MiB, 100],
  ];
  for (const binary of kinds) {
    sizes.forEach(([full, wait], i) => {
      const size = full / q;
      const payload = binary ? new Uint8Array(size).fill(0xfe) : repeatTo(TEXT_PATTERN, size);
      defs.push(
        bigMessage(
          `9.${binary ? 2 : 1}.${i + 1}`,
          `Send ${binary ? 'binary' : 'text'} message with payload of length ${sizeLabel(size)}.`,
          payload,
          binary,
          wait,
          (run) => run.sendFrame({ opcode: binary ? Op.binary : Op.text, payload }),
        ),
      );
    });
  }

  // 9.3 / 9.4: one message of fixed size in fragments of increasing size.
  const fragmentSizes = [64, 256, KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, MiB, 4 * MiB];
  for (const binary of kinds) {
    const size = (4 * MiB) / q;
    const payload = binary ? new Uint8Array(size).fill(0xfe) : repeatTo('*', size);
    fragmentSizes.forEach((fragment, i) => {
      const frag = Math.min(fragment, size);
      defs.push(
        bigMessage(
          `9.${binary ? 4 : 3}.${i + 1}`,
          `Send fragmented ${binary ? 'binary' : 'text'} message with message payload of length ${sizeLabel(size)}. Sent out in fragments of ${sizeLabel(frag)}.`,
          payload,
          binary,
          100,
          (run) => run.sendMessage(binary, payload, frag),
        ),
      );
    });
  }

  // 9.5 / 9.6: one frame of fixed size, written in pieces of increasing size.
  const chopSizes = [64, 128, 256, 512, KiB, 2 * KiB];
  for (const binary of kinds) {
    const size = MiB / q;
    const payload = binary ? new Uint8Array(size).fill(0xfe) : repeatTo(TEXT_PATTERN, size);
    chopSizes.forEach((chop, i) => {
      defs.push(
        bigMessage(
          `9.${binary ? 6 : 5}.${i + 1}`,
          `Send ${binary ? 'binary' : 'text'} message with payload of length ${sizeLabel(size)}. Sent out data in chops of ${chop} octets.`,
          payload,
          binary,
          100,
          (run) => run.sendFrame({ opcode: binary ? Op.binary : Op.text, payload, chop }),
        ),
      );
    });
  }

  // 9.7 / 9.8: many small round trips, one at a time.
  const series: [number, number][] = [
    [0, 60],
    [16, 60],
    [64, 60],
    [256, 120],
    [1024, 240],
    [4096, 480],
  ];
  const count = options.quick ? 100 : 1000;
  for (const binary of kinds) {
    series.forEach(([length, wait], i) => {
      const payload = binary ? new Uint8Array(length).fill(0xfe) : repeatTo('*', length);
      const sendOne = (run: CaseRun): void => {
        run.state['sent'] = ((run.state['sent'] as number | undefined) ?? 0) + 1;
        run.sendFrame({ opcode: binary ? Op.binary : Op.text, payload });
      };
      defs.push({
        id: `9.${binary ? 8 : 7}.${i + 1}`,
        description: `Send ${count} ${binary ? 'binary' : 'text'} messages of payload size ${length} to measure implementation/network RTT (round trip time) / latency.`,
        expectation: `Receive echo'ed ${binary ? 'binary' : 'text'} messages (with payload as sent). Timeout case after ${wait} secs.`,
        close: NORMAL_CLOSE,
        exclusive: true,
        limit: wait + 30,
        start(run) {
          run.result = `Case did not finish within ${wait} seconds.`;
          run.closeAfter(wait);
          sendOne(run);
        },
        onEvent(run, event) {
          if (event.type !== 'message') return;
          if (event.binary !== binary || !equalBytes(event.payload, payload)) {
            run.behavior = 'FAILED';
            run.result = `Echo'ed message type or payload differs from what I sent (got binary = ${event.binary}, payload length = ${event.payload.length}).`;
            run.sendClose(Close.normal);
          } else if ((run.state['sent'] as number) < count) {
            sendOne(run);
          } else {
            run.behavior = 'OK';
            run.result = "Ok, received all echo'ed messages in time.";
            run.sendClose(Close.normal);
          }
        },
      });
    });
  }
  return defs;
}
